using System.Text.Json;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Notifier;

/// Delivers each run's outcome: to the log always, and to the agent's channels (webhook, Slack,
/// email) through NotificationDispatcher. An escalation carries a summary for the person who takes
/// over, written from Memory's transcript (decision 0021), and published for Memory to keep.
public sealed partial class OutcomeConsumer(
    NotificationDispatcher dispatcher,
    IClientFactory clients,
    IConfiguration configuration,
    IOptions<NotifierOptions> options,
    ILogger<OutcomeConsumer> logger) :
    IConsumer<RunCompleted>, IConsumer<RunFailed>, IConsumer<RunEscalated>, IConsumer<RunCancelled>
{
    /// Retries the transcript may lag for before the summary is written with what there is.
    private const int TranscriptAttempts = 4;

    public Task Consume(ConsumeContext<RunCompleted> context)
    {
        var m = context.Message;
        var title = m.ClosedBy is { } by ? $"Run of {m.Agent} closed by {by}" : $"Run of {m.Agent} completed";
        return DeliverAsync(context, RunOutcome.From(m), title, m.Answer, m.AgentHash);
    }

    public Task Consume(ConsumeContext<RunFailed> context) =>
        DeliverAsync(context, RunOutcome.From(context.Message), $"Run of {context.Message.Agent} failed", context.Message.Reason, context.Message.AgentHash);

    public async Task Consume(ConsumeContext<RunEscalated> context)
    {
        var m = context.Message;
        var summary = EscalationSummary.Write(m, await TranscriptAsync(context), RunLink(m.RunId));
        // Memory keeps it with the run, so the console's escalations page shows what the person was sent.
        await context.Publish(new EscalationSummarized(m.RunId, m.TenantId, m.Steps, summary), context.CancellationToken);
        await DeliverAsync(context, RunOutcome.From(m) with { Summary = summary }, $"Run of {m.Agent} needs a person: {Shorten(m.Reason)}", summary, m.AgentHash);
    }

    public Task Consume(ConsumeContext<RunCancelled> context) =>
        DeliverAsync(context, RunOutcome.From(context.Message), $"Run of {context.Message.Agent} cancelled", context.Message.Reason, context.Message.AgentHash);

    /// Memory's record of the run, once it holds the escalated step; after a few tries, whatever it
    /// holds, and null when Memory does not answer, so the person hears of the escalation regardless.
    private async Task<RunView?> TranscriptAsync(ConsumeContext<RunEscalated> context)
    {
        var lastTry = context.GetRetryAttempt() >= TranscriptAttempts;
        RunView run;
        try
        {
            var memory = clients.CreateRequestClient<GetRun>(context, RequestTimeout.After(ms: (int)options.Value.SummaryTimeout.TotalMilliseconds));
            var response = await memory.GetResponse<RunView>(new GetRun(context.Message.RunId), context.CancellationToken);
            run = response.Message;
        }
        catch (RequestTimeoutException) when (lastTry)
        {
            LogNoTranscript(logger, context.Message.RunId);
            return null;
        }

        if (!EscalationSummary.IsComplete(run, context.Message) && !lastTry)
        {
            throw new TranscriptBehindException($"Memory has not recorded step {context.Message.Steps} of run {context.Message.RunId} yet; the escalation summary waits for it.");
        }

        return run;
    }

    private Uri? RunLink(Guid runId) => RunLinks.Of(configuration, runId);

    private async Task DeliverAsync(ConsumeContext context, RunOutcome outcome, string title, string text, string? agentHash)
    {
        LogOutcome(logger, outcome.RunId, outcome.Agent, outcome.Status, outcome.Steps, outcome.Answer ?? outcome.Reason ?? "");
        var link = RunLink(outcome.RunId);
        // A run ends once per step count: an escalated run that is resumed and ends again is a new outcome.
        var notification = new Notification(outcome.Event, title, text, link, JsonSerializer.SerializeToElement(outcome, JsonSerializerOptions.Web),
            Key: $"{outcome.Event}:{outcome.RunId}:{outcome.Steps}");
        await dispatcher.NotifyAsync(context, outcome.RunId, outcome.TenantId, outcome.Agent, notification, context.CancellationToken, agentHash);
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : string.Concat(text.AsSpan(0, 119), "…");

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of agent {Agent} ended {Status} after {Steps} step(s): {Detail}")]
    private static partial void LogOutcome(ILogger logger, Guid runId, string agent, RunStatus status, int steps, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Memory did not answer for run {RunId}: its escalation summary has only what the saga recorded.")]
    private static partial void LogNoTranscript(ILogger logger, Guid runId);
}

/// The transcript has not caught up with the escalation yet; the retry asks Memory again.
public sealed class TranscriptBehindException(string message) : Exception(message);

/// Where a person sees a run: Gateway:PublicUrl + /runs/{id}; null when no public URL is configured.
public static class RunLinks
{
    public static Uri? Of(Microsoft.Extensions.Configuration.IConfiguration configuration, Guid runId) =>
        configuration["Gateway:PublicUrl"] is { Length: > 0 } url && Uri.TryCreate($"{url.TrimEnd('/')}/runs/{runId}", UriKind.Absolute, out var link) ? link : null;
}
