using Agentry.Contracts;
using Agentry.Agents;
using MassTransit;

namespace Agentry.Tests.Planner;

/// The saga keeps the run's spend (each step's cost, and a model judge's) and ends the run at the
/// agent's (or the goal's) cost limit, with the amounts in the reason.
public sealed class When_a_run_has_a_cost_limit : AgentRunSagaFixture
{
    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Parse("assistant", """
        instructions: Use the tools.
        tools: [calculator]
        limits:
          max_steps: 5
          max_tokens: 100000
          max_cost: 0.50
        """));

    [Test]
    public async Task Should_add_each_steps_cost_exactly_and_report_the_total_at_the_end()
    {
        var runId = await StartRunInState(m => m.LoadingContext);
        await Harness.Bus.Publish(ProposeCalls(runId, 1) with { Cost = 0.1234567m });
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var planned = await PublishedOne<StepPlanned>(m => m.RunId == runId && m.Step == 1);
        Assert.That(planned.Cost, Is.EqualTo(0.1234567m));
        Assert.That(planned.Goal, Is.EqualTo("What is 2 + 3?"));

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await Harness.Bus.Publish(ProposeAnswer(runId, 2, "5") with { Cost = 0.0000001m });
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        // A model judge's call is part of the run's spend too.
        await Harness.Bus.Publish(Verdict(runId, 2, Contracts.Verdict.Complete, "5") with { Usage = new TokenUsage(7, 3), Cost = 0.01m });

        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        // The state changes before the outbox delivers what the transition published.
        await Quiet();
        var completed = await PublishedOne<RunCompleted>(m => m.RunId == runId);
        Assert.That(completed.TotalCost, Is.EqualTo(0.1334568m));
        Assert.That(completed.Usage, Is.EqualTo(new TokenUsage(27, 13)));
    }

    [Test]
    public async Task Should_fail_when_a_step_takes_the_spend_over_the_limit_without_running_it()
    {
        var runId = await StartRunInState(m => m.LoadingContext);
        await Harness.Bus.Publish(ProposeCalls(runId, 1) with { Cost = 0.30m });
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        await Harness.Bus.Publish(ProposeCalls(runId, 2) with { Cost = 0.22m });

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var failed = await PublishedOne<RunFailed>(m => m.RunId == runId);
        Assert.That(failed.Reason, Is.EqualTo("Cost limit of $0.50 reached ($0.52 spent by step 2)."));
        Assert.That(failed.TotalCost, Is.EqualTo(0.52m));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId && m.Step == 2), Is.Empty, "the step over the budget was run");
    }

    [Test]
    public async Task Should_go_on_when_the_spend_is_exactly_the_limit()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeCalls(runId, 1) with { Cost = 0.50m });

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        Assert.That(Saga.Sagas.Contains(runId)!.TotalCost, Is.EqualTo(0.50m));
    }

    [Test]
    public async Task Should_apply_the_cost_limit_the_goal_overrides()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "2 + 3", Limits: new RunLimits(MaxCost: 0.000001m)));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        await Harness.Bus.Publish(ProposeCalls(runId, 1) with { Cost = 0.0000015m });

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("Cost limit of $0.000001 reached ($0.0000015 spent by step 1)."));
    }

    [Test]
    public async Task Should_count_the_spend_of_a_step_the_model_could_not_plan()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(new StepProposed(runId, Tenant, 1, null, [], null, new TokenUsage(30, 15), "test-model", "invalid tool arguments", Cost: 0.003m));

        var failed = await PublishedOne<RunFailed>(m => m.RunId == runId);
        Assert.That((failed.TotalCost, failed.Usage), Is.EqualTo((0.003m, new TokenUsage(30, 15))));
    }
}

/// An agent without max_cost spends without a limit, and a goal may not set a non-positive one.
public sealed class When_a_run_has_no_cost_limit : AgentRunSagaFixture
{
    [Test]
    public async Task Should_go_on_whatever_the_spend()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeCalls(runId, 1) with { Cost = 1_000m });

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        Assert.That(Saga.Sagas.Contains(runId)!.MaxCost, Is.Null);
    }

    [Test]
    public async Task Should_refuse_a_goal_with_a_cost_limit_of_zero()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "2 + 3", Limits: new RunLimits(MaxCost: 0m)));

        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("The run's cost limit must be more than zero US dollars, not 0."));
    }
}
