using Agentry.Contracts;
using MassTransit;

namespace Agentry.Tests.Planner;

/// The saga's part of forks and replays (docs/durability.md): a fork starts at the step after the
/// one it forks at; a replay records each new decision as a replay step, never sent to be run, and
/// asks for the next step's context at once, until the parent's last step.
public sealed class When_a_run_is_forked_or_replayed : AgentRunSagaFixture
{
    [Test]
    public async Task Should_start_a_fork_at_the_step_after_its_parents_with_the_guidance_in_its_first_context()
    {
        var runId = NewId.NextGuid();
        var lineage = new RunLineage(Guid.NewGuid(), LineageKind.Fork, 2, Guidance: new Guidance("Use the other carrier.", "ada"));
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?", Lineage: lineage));

        var first = await PublishedOne<ContextRequested>(m => m.RunId == runId);
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((first.Step, first.Lineage, first.Guidance, first.Trigger), Is.EqualTo((3, lineage, lineage.Guidance, (TriggerKind?)TriggerKind.Api)));
        Assert.That((run.Step, run.MaxSteps, run.Lineage), Is.EqualTo((3, 5, lineage)), "the definition's 3 steps, counted from step 2");
    }

    [Test]
    public async Task Should_record_each_decision_as_a_replay_step_and_plan_the_next_until_the_parents_last()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?", Limits: new RunLimits(MaxSteps: 2),
            Lineage: new RunLineage(Guid.NewGuid(), LineageKind.Replay, 0)));
        await PublishedOne<ContextRequested>(m => m.RunId == runId && m.Step == 1);

        await Harness.Bus.Publish(ProposeCalls(runId, 1));
        var second = await PublishedOne<ContextRequested>(m => m.RunId == runId && m.Step == 2);
        var decided = await PublishedOne<StepPlanned>(m => m.RunId == runId && m.Step == 1);
        Assert.That((decided.Replay, decided.ToolCalls.Count), Is.EqualTo((true, 1)));
        Assert.That(second.PreviousStep, Is.EqualTo(decided), "Memory records the new decision with the next request");
        Assert.That(ContextRequests(runId, 2), Is.EqualTo(1), "asked once: the acceptance does not also count as a redelivery");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId), "no tool to wait for, no approval asked");

        // The same proposal again, as a redelivery brings it: what was published goes out again.
        await Harness.Bus.Publish(ProposeCalls(runId, 1));
        await Eventually.Until(() => Task.FromResult(ContextRequests(runId, 2) == 2 ? "" : null), "the next context asked for again");

        await Harness.Bus.Publish(ProposeAnswer(runId, 2, "5"));
        var completed = await PublishedOne<RunCompleted>(m => m.RunId == runId);
        Assert.That((completed.Answer, completed.Steps), Is.EqualTo(("5", 2)));
        Assert.That(Harness.Published.Select<StepPlanned>().Where(p => p.Context.Message.RunId == runId).Select(p => p.Context.Message.Replay), Is.All.True);
        Assert.That(Harness.Published.Select<ToolResult>().Any(p => p.Context.Message.RunId == runId), Is.False);
    }

    private int ContextRequests(Guid runId, int step) =>
        Harness.Published.Select<ContextRequested>().Count(p => p.Context.Message.RunId == runId && p.Context.Message.Step == step);
}
