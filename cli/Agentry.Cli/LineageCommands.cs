using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Agentry.Contracts;
using Agentry.Gateway.Lineage;

namespace Agentry.Cli;

/// `agentry runs fork` and `agentry runs replay` (docs/durability.md): new runs linked to the run they
/// come from, started through the Gateway like any run.
public static class LineageCommands
{

    /// How often the replay's progress is read while waiting for its table.
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static async Task<int> ForkAsync(GatewayTarget gateway, string runId, int fromStep, string? model, string? agentVersion, string? guidance, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (await RunCommands.RunIdAsync(runId, error) is not { } id)
        {
            return ExitCodes.BadInput;
        }

        return await PostAsync(gateway, $"runs/{id}/fork", new ForkRunRequest(fromStep, model, agentVersion, guidance), output, error, async (_, started) =>
        {
            await output.WriteLineAsync(started.Message);
            await output.WriteLineAsync($"agentry show {started.RunId}");
            return ExitCodes.Completed;
        }, cancellationToken);
    }

    /// Starts the replay, waits for it to end (at most wait) and prints each step's recorded and new
    /// decision. Exits 0 when every step was decided the same, 1 when some differ or the replay did not
    /// complete, 2 on bad input.
    public static async Task<int> ReplayAsync(GatewayTarget gateway, string runId, string? model, TimeSpan wait, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (await RunCommands.RunIdAsync(runId, error) is not { } id)
        {
            return ExitCodes.BadInput;
        }

        return await PostAsync(gateway, $"runs/{id}/replay", new ReplayRunRequest(model), output, error, async (http, started) =>
        {
            await output.WriteLineAsync(started.Message);
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            patience.CancelAfter(wait);
            ReplayComparisonView? compared = null;
            try
            {
                while (compared?.Status is null or RunStatus.Running)
                {
                    await Task.Delay(Poll, patience.Token);
                    using var response = await http.GetAsync($"runs/{started.RunId}/replay", patience.Token);
                    // Memory records the new run from its first message: until then it is not found.
                    compared = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<ReplayComparisonView>(RunCommands.Web, patience.Token) : null;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await output.WriteLineAsync($"The replay did not end within {wait}; what it decided so far:");
            }

            if (compared is null)
            {
                return ExitCodes.NotCompleted;
            }

            await WriteTableAsync(compared, output);
            if (compared.Status != RunStatus.Completed)
            {
                await output.WriteLineAsync($"The replay is {compared.Status}: agentry show {started.RunId} says why.");
                return ExitCodes.NotCompleted;
            }

            return compared.Differences == 0 ? ExitCodes.Completed : ExitCodes.NotCompleted;
        }, cancellationToken);
    }

    public static async Task WriteTableAsync(ReplayComparisonView compared, TextWriter output)
    {
        await output.WriteLineAsync("step  same     recorded decision  |  new decision");
        foreach (var row in compared.Comparison)
        {
            var same = row.New is null ? "-" : row.Same ? "same" : "DIFFERS";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{row.Step,4}  {same,-7}  {row.Recorded}  |  {row.New ?? "(not decided)"}"));
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{compared.Differences} of {compared.Decided} decided step(s) differ from run {compared.ParentRunId} ({compared.Steps} recorded)."));
    }

    private static async Task<int> PostAsync<T>(GatewayTarget gateway, string path, T body, TextWriter output, TextWriter error, Func<HttpClient, LineageRunResponse, Task<int>> then, CancellationToken cancellationToken)
    {
        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            using var response = await http.PostAsJsonAsync(path, body, RunCommands.Web, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            return await then(http, (await response.Content.ReadFromJsonAsync<LineageRunResponse>(RunCommands.Web, cancellationToken))!);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    /// What `agentry show` says of a run's lineage: where it came from, and its forks and replays.
    public static IEnumerable<string> Lines(RunView run)
    {
        if (run.Lineage is { } lineage)
        {
            var how = lineage.Kind == LineageKind.Fork ? $"fork of run {lineage.ParentRunId} at step {lineage.FromStep}" : $"replay of run {lineage.ParentRunId}";
            var model = lineage.Model is { } m ? $", model {m}" : "";
            var guidance = lineage.Guidance is { } g ? $", guidance from {g.By}: {g.Text}" : "";
            yield return $"lineage: {how}{model}{guidance}";
        }

        foreach (var child in run.Children ?? [])
        {
            yield return child.Kind == LineageKind.Fork ? $"forked: run {child.RunId} at step {child.FromStep}" : $"replayed: run {child.RunId}";
        }
    }
}
