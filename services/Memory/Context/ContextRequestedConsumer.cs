using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Memory;

/// Answers a ContextRequested with the context of the next planning call (ContextBuilder). A
/// context that cannot be fitted to the agent's budget ends the run with the reason (RunFaulted)
/// rather than reaching the model over budget: retrying could not make it fit.
public sealed partial class ContextRequestedConsumer(
    ITranscriptStore store,
    RunStarts starts,
    ContextBuilder builder,
    PinnedAgents agents,
    RunLineages lineages,
    ILogger<ContextRequestedConsumer> logger) : IConsumer<ContextRequested>
{
    public async Task Consume(ConsumeContext<ContextRequested> context)
    {
        var request = context.Message;
        var started = Stopwatch.GetTimestamp();
        using var span = AgentryTelemetry.StartStage("assemble_context", AgentryTelemetry.Stages.Context, request.RunId, request.Step);
        await lineages.SeedAsync(request, context.CancellationToken);
        // What the request carries is recorded first (idempotently): the context then never waits for
        // this service's own copies of those events, which arrive on other queues.
        if (request.PreviousStep is { } previousStep)
        {
            await store.RecordStepAsync(previousStep, context.CancellationToken);
        }

        if (request.PreviousResult is { } previousResult)
        {
            await store.RecordToolResultAsync(previousResult, context.CancellationToken);
        }

        if (request.PreviousVerdict is { } previousVerdict)
        {
            await store.RecordVerdictAsync(previousVerdict, context.CancellationToken);
        }

        if (request.Guidance is { } guidance)
        {
            await store.RecordGuidanceAsync(request.RunId, request.TenantId, request.Step - 1, guidance, context.CancellationToken);
        }

        var agent = await agents.GetAsync(request.Agent, request.AgentHash, context.CancellationToken);
        // Only what the context shows is read: the stored summary of the older steps, then the steps after it.
        RunView run;
        TranscriptSummary? stored;
        using (AgentryTelemetry.StartStage("retrieve_transcript", AgentryTelemetry.Stages.Context, request.RunId, request.Step))
        {
            stored = await builder.StoredSummaryAsync(agent, request, context.CancellationToken);
            run = await store.GetRecentAsync(request.RunId, stored?.ThroughStep ?? 0, context.CancellationToken);
        }

        // Before the first context is answered (RunStarts says why). The first step reads no
        // earlier steps, so the run as read above is still the one to build from.
        if (RunLineages.IsFirstStep(request))
        {
            await starts.RecordAsync(request, run, context.CancellationToken);
        }

        run = await lineages.ContextOfAsync(request, run, stored?.ThroughStep ?? 0, context.CancellationToken);
        var assembled = await builder.BuildAsync(agent, run, request, stored, context.CancellationToken);
        span?.SetTag(AgentryTelemetry.Tags.ContextStepsRead, run.Steps.Count);
        span?.SetTag(AgentryTelemetry.Tags.ContextMessages, assembled.Messages.Count)
            .SetTag(AgentryTelemetry.Tags.ContextTokens, assembled.Tokens)
            .SetTag(AgentryTelemetry.Tags.ContextBudget, assembled.Budget)
            .SetTag(AgentryTelemetry.Tags.ContextSummarizedSteps, assembled.SummarizedSteps)
            .SetTag(AgentryTelemetry.Tags.ContextMemories, assembled.Memories)
            .SetTag(AgentryTelemetry.Tags.ContextPassages, assembled.Passages);
        AgentryTelemetry.RecordStage(AgentryTelemetry.Stages.Context, started);
        if (assembled.OverBudget is { } reason)
        {
            span.Fail("context_over_budget", reason);
            LogOverBudget(logger, request.RunId, request.Step, reason);
            await context.Publish(new RunFaulted(request.RunId, request.TenantId, reason, assembled.Usage, assembled.Cost));
            return;
        }

        await context.Publish(new ContextLoaded(request.RunId, request.TenantId, request.Agent, request.Step, assembled.Messages, request.PlanRequest, assembled.Usage, assembled.Cost, request.AgentHash));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} step {Step}: {Reason}")]
    private static partial void LogOverBudget(ILogger logger, Guid runId, int step, string reason);
}
