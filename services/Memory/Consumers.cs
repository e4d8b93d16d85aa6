using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Memory;

/// Answers a ContextRequested with the context of the next planning call (ContextBuilder). A
/// context that cannot be fitted to the agent's budget ends the run with the reason (RunFaulted)
/// rather than reaching the model over budget: retrying could not make it fit.
public sealed partial class ContextRequestedConsumer(
    ITranscriptStore store,
    ContextBuilder builder,
    AgentCatalog agents,
    TimeProvider clock,
    ILogger<ContextRequestedConsumer> logger) : IConsumer<ContextRequested>
{
    public async Task Consume(ConsumeContext<ContextRequested> context)
    {
        var request = context.Message;
        var started = Stopwatch.GetTimestamp();
        using var span = AgentryTelemetry.StartStage("assemble_context", AgentryTelemetry.Stages.Context, request.RunId, request.Step);
        if (request.Step == 1)
        {
            await store.StartRunAsync(new RunStart(request.RunId, request.TenantId, request.Agent, request.Goal, request.Input?.GetRawText(), clock.GetUtcNow(), request.UserId), context.CancellationToken);
        }

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

        var agent = agents.Find(request.Agent)
            ?? throw new InvalidOperationException(agents.DescribeUnknown(request.Agent));
        RunView run;
        using (AgentryTelemetry.StartStage("retrieve_transcript", AgentryTelemetry.Stages.Context, request.RunId, request.Step))
        {
            run = await store.GetAsync(request.RunId, context.CancellationToken);
        }

        var assembled = await builder.BuildAsync(agent, run, request, context.CancellationToken);
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
            await context.Publish(new RunFaulted(request.RunId, request.TenantId, reason));
            return;
        }

        await context.Publish(new ContextLoaded(request.RunId, request.TenantId, request.Agent, request.Step, assembled.Messages, request.PlanRequest));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} step {Step}: {Reason}")]
    private static partial void LogOverBudget(ILogger logger, Guid runId, int step, string reason);
}

/// Records every event of a run's lifecycle in its transcript.
public sealed class TranscriptConsumer(ITranscriptStore store, TimeProvider clock) :
    IConsumer<GoalReceived>,
    IConsumer<StepPlanned>,
    IConsumer<ToolResult>,
    IConsumer<GoalEvaluated>,
    IConsumer<RunCompleted>,
    IConsumer<RunFailed>,
    IConsumer<RunEscalated>,
    IConsumer<RunCancelled>,
    IConsumer<ApprovalRequested>,
    IConsumer<ApprovalDecided>,
    IConsumer<RunResumed>
{
    public Task Consume(ConsumeContext<ApprovalRequested> context) =>
        store.RecordApprovalRequestedAsync(context.Message, clock.GetUtcNow(), context.CancellationToken);

    public Task Consume(ConsumeContext<ApprovalDecided> context) =>
        store.RecordApprovalDecidedAsync(context.Message, clock.GetUtcNow(), context.CancellationToken);

    public Task Consume(ConsumeContext<GoalReceived> context)
    {
        var goal = context.Message;
        return store.StartRunAsync(new RunStart(goal.RunId, goal.TenantId, goal.Agent, goal.Goal, goal.Input?.GetRawText(), clock.GetUtcNow(), goal.UserId), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<StepPlanned> context) => store.RecordStepAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<ToolResult> context) => store.RecordToolResultAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<GoalEvaluated> context) => store.RecordVerdictAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<RunCompleted> context)
    {
        var m = context.Message;
        var reason = m.ClosedBy is { } by ? $"Closed by {by}." : null;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, "Completed", m.Answer, reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunResumed> context)
    {
        var m = context.Message;
        return store.RecordGuidanceAsync(m.RunId, m.TenantId, m.Step - 1, m.Guidance, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunFailed> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, "Failed", null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunEscalated> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, "Escalated", null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunCancelled> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, "Cancelled", null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }
}

public sealed class GetRunConsumer(ITranscriptStore store) : IConsumer<GetRun>
{
    public async Task Consume(ConsumeContext<GetRun> context) =>
        await context.RespondAsync(await store.GetAsync(context.Message.RunId, context.CancellationToken));
}

public sealed class GetPendingApprovalsConsumer(ITranscriptStore store) : IConsumer<GetPendingApprovals>
{
    public async Task Consume(ConsumeContext<GetPendingApprovals> context) =>
        await context.RespondAsync(new PendingApprovals(await store.PendingApprovalsAsync(context.Message.TenantId, context.CancellationToken)));
}
