using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Agentry.Agents.Pinning;
using Agentry.Contracts;

namespace Agentry.Cli;

/// `agentry show RUN_ID`: a run as the deployment recorded it, through its Gateway: what started it,
/// where it stands, its steps and how it ended.
public static class RunCommands
{
    internal static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static async Task<int> ShowAsync(GatewayTarget gateway, string runId, TextWriter output, TextWriter error, CancellationToken cancellationToken, string? callId = null)
    {
        if (await RunCommands.RunIdAsync(runId, error) is not { } id)
        {
            return ExitCodes.BadInput;
        }

        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            if (callId is not null)
            {
                return await ShowOutputAsync(http, id, callId, output, error, cancellationToken);
            }

            using var response = await http.GetAsync($"runs/{id}", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var run = (await response.Content.ReadFromJsonAsync<RunView>(Web, cancellationToken))!;
            await output.WriteLineAsync($"run {run.RunId}  agent {run.Agent}  tenant {run.TenantId}  {run.Status}");
            await output.WriteLineAsync($"started by: {StartedBy(run.Trigger, run.Origin)}");
            await output.WriteLineAsync($"goal: {run.Goal}");
            if (run.Definition is { } pinned)
            {
                await output.WriteLineAsync(DefinitionLine(pinned));
            }

            foreach (var line in LineageCommands.Lines(run))
            {
                await output.WriteLineAsync(line);
            }

            foreach (var step in run.Steps)
            {
                var calls = string.Join(", ", step.ToolCalls.Select(call => call.Tool));
                await output.WriteLineAsync($"  step {step.Step}: {(calls.Length > 0 ? calls : step.FinalAnswer is not null ? "answer" : "-")}{(step.Verdict is { } verdict ? $"  -> {verdict}" : "")}");
                foreach (var outcome in step.Outcomes.Where(o => o.OutputRef is not null))
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"    {outcome.CallId} {outcome.Tool}: {outcome.OutputRef!.Size:N0} bytes kept out of line ({outcome.OutputRef.Id}); --output {outcome.CallId} prints it"));
                }
            }

            if (run.Answer is { } answer)
            {
                await output.WriteLineAsync($"answer: {answer}");
            }

            if (run.Reason is { } reason)
            {
                await output.WriteLineAsync($"reason: {reason}");
            }

            if (run.Usage is { } usage)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"tokens: {usage.InputTokens} in, {usage.OutputTokens} out; cost ${run.TotalCost ?? 0:0.######}"));
            }

            if (run.ExtractionUsage is { } learning)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"learning from it after the end (long-term memory): {learning.InputTokens} in, {learning.OutputTokens} out; cost ${run.ExtractionCost ?? 0:0.######}"));
            }

            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    /// The run id a command was given, or null after saying why it is not one.
    internal static async Task<Guid?> RunIdAsync(string runId, TextWriter error)
    {
        if (Guid.TryParse(runId, out var id))
        {
            return id;
        }

        await error.WriteLineAsync($"'{runId}' is not a run id (a GUID, as POST /runs or `agentry run` gave it).");
        return null;
    }

    /// The definition a run acts on, and how it stands against the current one (docs/durability.md).
    public static string DefinitionLine(RunDefinition pinned)
    {
        var hash = pinned.AgentHash ?? "(none: started before runs pinned their definition)";
        var against = pinned.CurrentHash is null ? "; the agent is no longer defined"
            : pinned.MovingToHash is { } moving ? $"; moving to {AgentDefinitionHash.Abbreviate(moving)} at the next step"
            : pinned.DiffersFromCurrent ? $"; differs from the current {AgentDefinitionHash.Abbreviate(pinned.CurrentHash)} (agentry move-definition {pinned.RunId})"
            : "; the current one";
        return $"definition: {hash}{against}";
    }

    /// `agentry move-definition RUN_ID`: the run takes its agent's current definition at its next step.
    public static async Task<int> MoveDefinitionAsync(GatewayTarget gateway, string runId, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (await RunCommands.RunIdAsync(runId, error) is not { } id)
        {
            return ExitCodes.BadInput;
        }

        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.PostAsync($"runs/{id}/definition", content: null, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var moved = (await response.Content.ReadFromJsonAsync<MoveDefinition>(Web, cancellationToken))!;
            await output.WriteLineAsync(moved.Message);
            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    /// The Gateway's answer to POST /runs/{id}/definition (its MoveDefinitionResponse).
    private sealed record MoveDefinition(Guid RunId, string Agent, string? FromHash, string ToHash, bool Moved, string Message);

    /// One call's whole output: the Gateway reads one kept out of line from its payload store.
    private static async Task<int> ShowOutputAsync(HttpClient http, Guid runId, string callId, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"runs/{runId}/outputs/{Uri.EscapeDataString(callId)}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
            return response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.BadInput : ExitCodes.NotCompleted;
        }

        await output.WriteLineAsync(await response.Content.ReadAsStringAsync(cancellationToken));
        return ExitCodes.Completed;
    }

    /// What started a run, in a line: the trigger's kind, its name in the agent, and the firing.
    public static string StartedBy(TriggerKind? trigger, TriggerOrigin? origin)
    {
        var firing = origin switch
        {
            null => "",
            { DueAt: { } due } => $", due {due.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}",
            { DeliveryId: { } delivery } => trigger == TriggerKind.Event ? $", event {delivery}" : $", delivery {delivery}",
            _ => "",
        };
        var named = origin is null ? "" : $" '{origin.Name}'{(origin.Source is { } source ? $" ({source})" : "")}{firing}";
        return trigger switch
        {
            TriggerKind.Api => "an API call",
            TriggerKind.SubAgent => "a parent run (sub-agent call)",
            TriggerKind.Schedule => $"schedule{named}",
            TriggerKind.Webhook => $"webhook{named}",
            TriggerKind.Event => $"event subscription{named}",
            _ => "not recorded",
        };
    }
}
