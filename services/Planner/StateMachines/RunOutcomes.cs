using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using MassTransit;
using static Agentry.Planner.StateMachines.RunMessages;

namespace Agentry.Planner.StateMachines;

/// The run's wall-clock deadline, set when it starts or resumes, and the ends that remove it and
/// give the run's tenant slot back (an escalation keeps it: the run may be resumed): each end
/// publishes the message that tells the other services how the run ended.
internal sealed class RunOutcomes(IRunDeadlines deadlines, RunSlots slots, TimeProvider clock)
{
    public Task SetDeadline<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        deadlines.SetAsync(new RunDeadline(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Deadline, DeadlineMonitor.CurrentTraceParent()), c.CancellationToken);

    public Task Complete(BehaviorContext<AgentRunState, GoalEvaluated> c) => CompleteWith(c, c.Message.FinalAnswer ?? "");

    /// A replay ends without a verdict (RunLineages.Finish).
    public async Task CompleteWith<T>(BehaviorContext<AgentRunState, T> c, string answer)
        where T : class
    {
        c.Saga.Answer = answer;
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await slots.Release(c);
        await PublishEnd(c, Completed(c.Saga, clock));
    }

    /// An escalated run closed by a person (RunTakeover.Close) ends completed.
    public async Task Close<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        await slots.Release(c);
        await PublishEnd(c, Closed(c.Saga, clock));
    }

    public async Task Fail<T>(BehaviorContext<AgentRunState, T> c, string reason)
        where T : class
    {
        c.Saga.LastReason = reason;
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await slots.Release(c);
        await PublishEnd(c, Failed(c.Saga, clock));
    }

    public async Task Escalate<T>(BehaviorContext<AgentRunState, T> c, string reason)
        where T : class
    {
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await slots.HoldWhileEscalated(c);
        await PublishEnd(c, Escalated(c.Saga, reason, clock));
    }

    public async Task Cancel<T>(BehaviorContext<AgentRunState, T> c, string reason)
        where T : class
    {
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await slots.Release(c);
        await PublishEnd(c, Cancelled(c.Saga, reason, clock));
    }
}
