using Agentry.Contracts;
using Agentry.Planner.StateMachines;
using MassTransit;

namespace Agentry.Tests.Planner.Persistence;

/// At-least-once delivery to several consumers at once: copies of one GoalReceived all find no run
/// and all try to create it. Only one may; the others must see that run and change nothing.
public sealed class When_a_goal_is_delivered_many_times_at_once : RedisAgentRunSagaFixture
{
    private const int Copies = 8;

    protected override int ConcurrentMessageLimit => Copies;

    [Test]
    public async Task Should_start_one_run_and_ask_for_its_context_once()
    {
        using var conflicts = new SagaConflicts(nameof(AgentRunState));
        var runId = NewId.NextGuid();
        var goal = new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?");

        await Deliver(Enumerable.Repeat<object>(goal, Copies).ToArray());

        var run = await StoredIn(runId, m => m.LoadingContext);
        Assert.That(run.Version, Is.EqualTo(1), "the run was written again after it was created");
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId).Count(), Is.EqualTo(1));
        Assert.That(Harness.Published.Select<Fault<GoalReceived>>().Count(), Is.Zero, "a copy ran out of retries");
        Assert.That(await Redis.KeysAsync(KeyPrefix + "saga:"), Has.Count.EqualTo(1));
        Assert.That(conflicts.Count, Is.GreaterThan(0), "no two copies raced to create the run: the test proved nothing about inserts");
        TestContext.Out.WriteLine($"{conflicts.Count} of {Copies - 1} duplicate creations were refused as conflicts.");
    }
}
