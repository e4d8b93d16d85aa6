using Agentry.Contracts;
using Agentry.Planner.StateMachines;
using MassTransit;
using MassTransit.Testing;

namespace Agentry.Tests.Planner.Persistence;

/// A person's answer to an escalated run can arrive several times at once (a retried request, a
/// redelivery). Like every event of the run, the copies wait for each other within one Planner
/// (AgentRunSagaDefinition partitions every message the machine correlates), so none of them races
/// another to a version conflict in Redis.
public sealed class When_a_person_answers_an_escalation_many_times_at_once : RedisAgentRunSagaFixture
{
    private const int Copies = 8;

    protected override int ConcurrentMessageLimit => Copies;

    [Test]
    public async Task Should_close_the_run_once_without_a_version_conflict()
    {
        var run = await AnswerManyTimes(runId => new CloseRun(runId, Tenant, "The answer is 5.", "alice", AtStep: 1), m => m.Completed);

        Assert.That((run.Answer, run.ClosedBy), Is.EqualTo(("The answer is 5.", "alice")));
    }

    [Test]
    public async Task Should_resume_the_run_once_without_a_version_conflict()
    {
        var run = await AnswerManyTimes(runId => new ResumeRun(runId, Tenant, "Answer 5.", "alice", AtStep: 1), m => m.LoadingContext);

        Assert.That(run.Step, Is.EqualTo(2), "the run was resumed more than once");
    }

    /// Escalates a run at step 1, delivers copies of the person's answer to it all at once and
    /// returns the run as Redis holds it afterwards, in the state the answer moves it to.
    private async Task<AgentRunState> AnswerManyTimes<T>(Func<Guid, T> answer, Func<AgentRunStateMachine, State> state)
        where T : class
    {
        var runId = await Start();
        await Deliver(ProposeAnswer(runId, 1, "maybe 5"));
        await Deliver(Verdict(runId, 1, Contracts.Verdict.Escalate));
        var escalatedAt = (await StoredIn(runId, m => m.Escalated)).Version;
        using var conflicts = new SagaConflicts(nameof(AgentRunState));

        await Deliver(Enumerable.Repeat<object>(answer(runId), Copies).ToArray());

        var run = await StoredIn(runId, state);
        Assert.That(run.Version, Is.EqualTo(escalatedAt + 1), "the run was written more than once");
        Assert.That(conflicts.Count, Is.Zero, $"copies of {typeof(T).Name} raced each other to Redis: they are not partitioned by run");
        Assert.That(Harness.Published.Select<Fault<T>>().Count(), Is.Zero, "a copy ran out of retries");
        return run;
    }
}
