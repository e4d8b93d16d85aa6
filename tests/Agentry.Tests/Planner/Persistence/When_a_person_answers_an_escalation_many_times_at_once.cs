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
        var (runId, escalatedAt) = await Escalate();
        using var conflicts = new SagaConflicts(nameof(AgentRunState));

        await Deliver(Enumerable.Repeat<object>(new CloseRun(runId, Tenant, "The answer is 5.", "alice", AtStep: 1), Copies).ToArray());

        var run = await StoredIn(runId, m => m.Completed);
        Assert.That(run.Version, Is.EqualTo(escalatedAt + 1), "the run was written more than once");
        Assert.That(conflicts.Count, Is.Zero, "copies of CloseRun raced each other to Redis: they are not partitioned by run");
        Assert.That(Harness.Published.Select<Fault<CloseRun>>().Count(), Is.Zero, "a copy ran out of retries");
    }

    [Test]
    public async Task Should_resume_the_run_once_without_a_version_conflict()
    {
        var (runId, escalatedAt) = await Escalate();
        using var conflicts = new SagaConflicts(nameof(AgentRunState));

        await Deliver(Enumerable.Repeat<object>(new ResumeRun(runId, Tenant, "Answer 5.", "alice", AtStep: 1), Copies).ToArray());

        var run = await StoredIn(runId, m => m.LoadingContext);
        Assert.That((run.Step, run.Version), Is.EqualTo((2, escalatedAt + 1)), "the run was resumed or written more than once");
        Assert.That(conflicts.Count, Is.Zero, "copies of ResumeRun raced each other to Redis: they are not partitioned by run");
        Assert.That(Harness.Published.Select<Fault<ResumeRun>>().Count(), Is.Zero, "a copy ran out of retries");
    }

    /// A run escalated by the Evaluator at step 1, and the version Redis holds it at.
    private async Task<(Guid RunId, int Version)> Escalate()
    {
        var runId = await Start();
        await Deliver(ProposeAnswer(runId, 1, "maybe 5"));
        await Deliver(Verdict(runId, 1, Contracts.Verdict.Escalate));
        return (runId, (await StoredIn(runId, m => m.Escalated)).Version);
    }
}
