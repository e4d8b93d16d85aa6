using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;

namespace Agentry.Cli;

/// `agentry audit`: the audit trail of the tenant of your key, through a deployment's Gateway.
public static class AuditCommands
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<int> ListAsync(GatewayTarget gateway, string? runId, int limit, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (runId is not null && !Guid.TryParse(runId, out _))
        {
            await error.WriteLineAsync($"'{runId}' is not a run id (a GUID).");
            return ExitCodes.BadInput;
        }

        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.GetAsync($"audit?limit={limit}" + (runId is null ? "" : $"&runId={runId}"), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode == System.Net.HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var entries = (await response.Content.ReadFromJsonAsync<AuditTrail>(Web, cancellationToken))!.Entries;
            if (entries.Count == 0)
            {
                await output.WriteLineAsync(runId is null ? "The audit trail is empty." : $"Nothing was decided on run {runId}.");
                return ExitCodes.Completed;
            }

            foreach (var entry in entries)
            {
                var what = string.Join(" ", new[] { entry.RunId is { } run ? $"run {run}" : null, entry.Target }.Where(part => part is not null));
                await output.WriteLineAsync($"{entry.At.ToString("u", CultureInfo.InvariantCulture)}  {entry.Action}  by {entry.Actor} from {entry.Source}"
                    + (what.Length > 0 ? $"  {what}" : "") + (entry.Detail is { Length: > 0 } detail ? $": {detail}" : ""));
            }

            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }
}
