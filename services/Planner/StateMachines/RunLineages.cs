using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// Forks and replays (docs/durability.md, decision 0031). A fork starts on the definition its lineage
/// names and plans the step after the one it forks at; Memory has seeded its transcript with the
/// parent's steps by then. A replay plans each of its parent's steps again: each new decision is
/// recorded (StepPlanned marked Replay, which no tool runs for and no verdict judges) and the next
/// step is planned at once from the parent's recorded history, until the parent's last step.
internal sealed class RunLineages(PinnedAgents agents, RunOutcomes end)
{
    public static bool IsReplay(AgentRunState run) => run.Lineage is { Kind: LineageKind.Replay };

    /// After the run's own start and pin: the definition the lineage names replaces the current one,
    /// with its limits (as a move applies them), and a fork's step count goes on from its parent's.
    public async Task Start(BehaviorContext<AgentRunState, GoalReceived> c)
    {
        if (c.Message.Lineage is not { } lineage)
        {
            return;
        }

        var run = c.Saga;
        run.Lineage = lineage;
        if (lineage.AgentHash is { } hash && hash != run.AgentHash)
        {
            var current = agents.Catalog.Find(run.Agent)!;
            var pinned = await agents.GetAsync(run.Agent, hash, c.CancellationToken);
            RunDefinitions.ApplyLimits(run, current.Limits, pinned.Limits, c.Message.Limits);
            run.AgentHash = hash;
            if (pinned.Strategy == PlanningStrategy.PlanAndExecute && !run.PlanAndExecute)
            {
                RunPlans.Begin(run, pinned.Limits.MaxReplans);
            }

            run.PlanAndExecute = pinned.Strategy == PlanningStrategy.PlanAndExecute;
        }

        if (lineage.Kind == LineageKind.Fork)
        {
            run.Step = lineage.FromStep + 1;
            run.MaxSteps += lineage.FromStep;
        }
    }

    public static bool HasStepsLeft(AgentRunState run) => run.Step < run.MaxSteps;

    /// The new decision is recorded, and the next step's context asked for with it: Memory records the
    /// decision in the replay's transcript and builds the context from the parent's steps before it.
    public static async Task Advance(BehaviorContext<AgentRunState, StepProposed> c)
    {
        var decided = RunSteps.Accept(c);
        await c.Publish(decided);
        var request = RunMessages.ContextRequest(c.Saga, previousVerdict: null) with { Step = c.Saga.Step + 1, PreviousStep = decided };
        c.Saga.Step++;
        await c.Publish(request);
    }

    /// A redelivered proposal of the step before finds the replay on the next step: what Advance
    /// published goes out again (Memory and the planning consumer take it once more, idempotently).
    public static async Task Republish(BehaviorContext<AgentRunState, StepProposed> c)
    {
        var decided = RunMessages.Deserialize<StepPlanned>(c.Saga.PlannedStepJson)!;
        await c.Publish(decided);
        await c.Publish(RunMessages.ContextRequest(c.Saga, previousVerdict: null) with { PreviousStep = decided });
    }

    /// The parent's last step decided again: the replay completes, its answer the new last decision.
    public async Task Finish(BehaviorContext<AgentRunState, StepProposed> c)
    {
        var decided = RunSteps.Accept(c);
        await c.Publish(decided);
        var answer = decided.FinalAnswer is { Length: > 0 } final
            ? final
            : $"Replayed {decided.Step} step(s) of run {c.Saga.Lineage!.ParentRunId}; the last new decision calls {string.Join(", ", decided.ToolCalls.Select(call => call.Tool))}.";
        await end.CompleteWith(c, answer);
    }
}
