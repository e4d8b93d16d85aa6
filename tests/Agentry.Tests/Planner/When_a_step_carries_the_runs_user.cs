using Agentry.Contracts;
using MassTransit;

namespace Agentry.Tests.Planner;

/// The accepted step names the run's user, so that a sub-agent's child run started by the
/// ToolExecutor works for the same user as its parent.
public sealed class When_a_step_carries_the_runs_user : AgentRunSagaFixture
{
    [Test]
    public async Task Should_copy_the_goals_user_onto_the_accepted_step()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?", UserId: "user-42"));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        await Harness.Bus.Publish(ProposeCalls(runId, 1));

        Assert.That((await PublishedOne<StepPlanned>(m => m.RunId == runId)).UserId, Is.EqualTo("user-42"));
    }
}
