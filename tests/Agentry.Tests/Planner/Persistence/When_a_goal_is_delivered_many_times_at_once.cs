using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.StateMachines;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Planner.Persistence;

/// At-least-once delivery to consumers working at once: copies of one GoalReceived that all find
/// no run. Only one may create it; every other copy must either have its creation refused (and be
/// retried on the run that exists) or find that run, and leave it as it is. How often the saga
/// publishes ContextRequested for a redelivered goal is the state machine's business, not the store's.
public sealed class When_a_goal_is_delivered_many_times_at_once : RedisAgentRunSagaFixture
{
    private const int Copies = 8;

    protected override int ConcurrentMessageLimit => Copies;

    [Test]
    public async Task Should_start_one_run_and_ask_for_its_context_once()
    {
        var runId = NewId.NextGuid();
        var goal = new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?");

        await Deliver(Enumerable.Repeat<object>(goal, Copies).ToArray());

        var run = await StoredIn(runId, m => m.LoadingContext);
        Assert.That(run.Version, Is.EqualTo(1), "the run was written again after it was created");
        Assert.That(await Redis.KeysAsync(KeyPrefix + "saga:"), Has.Count.EqualTo(1));
        // One Planner applies the copies one at a time: the first creates the run, the others find it.
        Assert.That(Saga.Created.Select(x => x.CorrelationId == runId).Count(), Is.EqualTo(1), "more than one copy created the run");
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId).Select(m => m.Step).Distinct(), Is.EqualTo(new[] { 1 }));
        Assert.That(Harness.Published.Select<Fault<GoalReceived>>().Count(), Is.Zero, "a copy ran out of retries");
    }

    [Test]
    public async Task Should_start_each_run_once_when_two_planners_receive_copies_of_its_goal()
    {
        const int Runs = 10;
        var clock = new FakeTimeProvider(Clock.GetUtcNow());
        await using var first = await Planner(clock);
        await using var second = await Planner(clock);
        using var conflicts = new SagaConflicts(nameof(AgentRunState));
        var goals = Enumerable.Range(0, Runs).Select(_ => new GoalReceived(NewId.NextGuid(), Tenant, "assistant", "What is 2 + 3?")).ToList();

        await Task.WhenAll(first.Deliver([.. goals, .. goals]), second.Deliver([.. goals, .. goals]));

        foreach (var goal in goals)
        {
            var run = await StoredIn(goal.RunId, m => m.LoadingContext);
            Assert.That(run.Version, Is.EqualTo(1), "the run was written again after it was created");
        }

        // Each planner tried to create a run when its first copy found none; all but one try per run were refused.
        var creations = Created(first) + Created(second);
        Assert.That(conflicts.Count, Is.GreaterThan(0), "the planners never raced to create a run: the test proved nothing about inserts");
        Assert.That(creations, Is.EqualTo(Runs + conflicts.Count), "a second creation of a run was not refused");
        Assert.That(first.Published<Fault<GoalReceived>>().Concat(second.Published<Fault<GoalReceived>>()), Is.Empty, "a copy ran out of retries");
        TestContext.Out.WriteLine($"{conflicts.Count} creations refused as conflicts for {Runs} runs.");
    }

    private static int Created(PlannerProcess planner) =>
        planner.Harness.GetSagaStateMachineHarness<AgentRunStateMachine, AgentRunState>().Created.Select(_ => true).Count();

    /// A Planner with the same configuration and key prefix as this fixture's, in a process of its own.
    private Task<PlannerProcess> Planner(TimeProvider clock) =>
        PlannerProcess.StartAsync(Configuration, clock, Agents, services => services.AddPlanner(Configuration), bus => bus.AddPlannerConsumers(Configuration));
}
