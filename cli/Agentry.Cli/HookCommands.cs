using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Gateway.Triggers.Webhooks;

namespace Agentry.Cli;

/// `agentry hooks list` and `agentry hooks replay`: the webhook inbox of the tenant of your key,
/// through a deployment's Gateway (docs/triggers.md).
public static class HookCommands
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<int> ListAsync(GatewayTarget gateway, string? agent, string? trigger, int limit, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        var query = $"hooks/deliveries?limit={limit}"
            + (string.IsNullOrWhiteSpace(agent) ? "" : $"&agent={Uri.EscapeDataString(agent)}")
            + (string.IsNullOrWhiteSpace(trigger) ? "" : $"&trigger={Uri.EscapeDataString(trigger)}");
        try
        {
            using var response = await http.GetAsync(query, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode == HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var deliveries = (await response.Content.ReadFromJsonAsync<List<WebhookDeliveryView>>(Web, cancellationToken))!;
            if (deliveries.Count == 0)
            {
                await output.WriteLineAsync("No webhook deliveries have been received" + (agent is null ? "." : $" for {agent}{(trigger is null ? "" : "/" + trigger)}."));
                return ExitCodes.Completed;
            }

            foreach (var d in deliveries)
            {
                var outcome = d.State switch
                {
                    WebhookDeliveryState.Started => $"run {d.RunId}",
                    WebhookDeliveryState.Received => "its run being started",
                    _ => d.Reason ?? "",
                };
                await output.WriteLineAsync($"{d.Id}  {d.ReceivedAt.ToString("u", CultureInfo.InvariantCulture)}  {d.Agent}/{d.Trigger} ({d.Source})  delivery {(d.DeliveryId.Length > 0 ? d.DeliveryId : "(none)")}"
                    + (d.Duplicates > 0 ? $", came {d.Duplicates} more time(s)" : ""));
                await output.WriteLineAsync($"  {d.State}: {outcome}");
            }

            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    public static async Task<int> ReplayAsync(GatewayTarget gateway, string deliveryId, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(deliveryId, out var id))
        {
            await error.WriteLineAsync($"'{deliveryId}' is not a delivery's inbox id (a GUID, the first column of `agentry hooks list`).");
            return ExitCodes.BadInput;
        }

        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.PostAsync($"hooks/deliveries/{id}/replay", null, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var answer = (await response.Content.ReadFromJsonAsync<WebhookAnswer>(Web, cancellationToken))!;
            await output.WriteLineAsync($"Replayed delivery {answer.DeliveryId}: run {answer.RunId} started.");
            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }
}
