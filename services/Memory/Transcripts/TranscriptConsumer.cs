using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

/// Records every event of a run's lifecycle in its transcript. The approval events are recorded
/// here too, in the approval store: they belong to the run's record (GET /runs/{id} shows them),
/// and keeping them on this consumer keeps its queue and bindings as they were.
public sealed class TranscriptConsumer(ITranscriptStore store, IApprovalStore approvals, RunStarts starts, TimeProvider clock) :
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
    IConsumer<ApprovalAssigned>,
    IConsumer<EscalationSummarized>,
    IConsumer<RunResumed>
{
    public Task Consume(ConsumeContext<ApprovalRequested> context) =>
        approvals.RecordApprovalRequestedAsync(context.Message, clock.GetUtcNow(), context.CancellationToken);

    public Task Consume(ConsumeContext<ApprovalDecided> context) =>
        approvals.RecordApprovalDecidedAsync(context.Message, clock.GetUtcNow(), context.CancellationToken);

    public Task Consume(ConsumeContext<ApprovalAssigned> context) =>
        approvals.RecordApprovalAssignedAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<EscalationSummarized> context) =>
        store.RecordEscalationSummaryAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<GoalReceived> context) => starts.RecordAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<StepPlanned> context) => store.RecordStepAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<ToolResult> context) => store.RecordToolResultAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<GoalEvaluated> context) => store.RecordVerdictAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<RunCompleted> context)
    {
        var m = context.Message;
        var reason = m.ClosedBy is { } by ? $"Closed by {by}." : null;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, RunStatus.Completed, m.Answer, reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunResumed> context)
    {
        var m = context.Message;
        return store.RecordGuidanceAsync(m.RunId, m.TenantId, m.Step - 1, m.Guidance, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunFailed> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, RunStatus.Failed, null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunEscalated> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, RunStatus.Escalated, null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<RunCancelled> context)
    {
        var m = context.Message;
        return store.EndRunAsync(new RunEnd(m.RunId, m.TenantId, m.Agent, RunStatus.Cancelled, null, m.Reason, m.Steps, m.Usage, clock.GetUtcNow(), m.TotalCost), context.CancellationToken);
    }
}
