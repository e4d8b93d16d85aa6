using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.ToolExecutor.SubAgents;

/// The end of any run, seen from the sub-agents' side. A child's end becomes its call's outcome in
/// the parent's step (and the step's ToolResult once all its calls have one). A parent's end
/// cancels its children still running, so that a failed, cancelled or timed-out parent leaves none
/// behind; a child whose cancel is lost still ends at its own deadline.
public sealed partial class SubAgentRunEndedConsumer(
    ISubAgentRuns runs,
    IToolCallLedger ledger,
    SubAgentCalls calls,
    ILogger<SubAgentRunEndedConsumer> logger) :
    IConsumer<RunCompleted>, IConsumer<RunFailed>, IConsumer<RunEscalated>, IConsumer<RunCancelled>
{
    public Task Consume(ConsumeContext<RunCompleted> context) => EndedAsync(context, context.Message, "completed");

    public Task Consume(ConsumeContext<RunFailed> context) => EndedAsync(context, context.Message, "failed");

    public Task Consume(ConsumeContext<RunEscalated> context) => EndedAsync(context, context.Message, "was escalated");

    public Task Consume(ConsumeContext<RunCancelled> context) => EndedAsync(context, context.Message, "was cancelled");

    private async Task EndedAsync(ConsumeContext context, IRunEnded ended, string how)
    {
        var cancellationToken = context.CancellationToken;
        if (await runs.FindAsync(ended.RunId, cancellationToken) is { } child)
        {
            if (await ledger.FindAsync(child.ParentRunId, child.CallId, cancellationToken) is null)
            {
                var outcome = calls.OutcomeOf(child, ended);
                using (var span = ToolCallTelemetry.Start(child.Tool, child.CallId, child.ParentRunId, child.Step))
                {
                    span?.SetTag(ToolCallTelemetry.ChildRunTag, child.ChildRunId.ToString());
                    ToolCallTelemetry.Ran(span, outcome);
                }

                await ledger.RecordAsync(child.ParentRunId, outcome, cancellationToken);
                LogChildEnded(logger, child.ChildRunId, how, child.ParentRunId, child.Step);
            }

            await calls.TryCompleteStepAsync(child.ParentRunId, child.TenantId, child.ParentAgent, child.Step, child.MaxSteps, child.StepCallIds, context, cancellationToken);
        }

        // A completed parent waited for all its children; one that ended otherwise may leave some running.
        foreach (var orphan in await runs.TakeChildrenAsync(ended.RunId, cancellationToken))
        {
            if (ended is not RunCompleted && await ledger.FindAsync(orphan.ParentRunId, orphan.CallId, cancellationToken) is null)
            {
                LogCancellingChild(logger, orphan.ChildRunId, ended.RunId, how);
                await context.Publish(new CancelRun(orphan.ChildRunId, orphan.TenantId, $"Its parent run {ended.RunId} {how} before this sub-agent finished."), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sub-agent run {ChildRunId} {How}; its outcome goes to run {ParentRunId}, step {Step}.")]
    private static partial void LogChildEnded(ILogger logger, Guid childRunId, string how, Guid parentRunId, int step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancelling sub-agent run {ChildRunId}: its parent run {ParentRunId} {How}.")]
    private static partial void LogCancellingChild(ILogger logger, Guid childRunId, Guid parentRunId, string how);
}
