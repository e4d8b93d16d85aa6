using System.Text.Json;
using Agentry.Contracts;
using MassTransit;
using static Agentry.Planner.StateMachines.RunMessages;

namespace Agentry.Planner.StateMachines;

/// One step of a run: context, proposal, accepted step, results, verdict. A step-scoped message
/// counts only for the run's current step.
internal static class RunSteps
{
    public static bool IsCurrent(BehaviorContext<AgentRunState, GoalEvaluated> c) => c.Message.Step == c.Saga.Step;

    public static bool IsCurrent(BehaviorContext<AgentRunState, StepProposed> c) => c.Message.Step == c.Saga.Step;

    /// A proposal for the current step that the saga can accept, limits aside.
    public static bool IsAcceptable(BehaviorContext<AgentRunState, StepProposed> c) => IsCurrent(c) && Problem(c.Saga, c.Message) is null;

    /// ReAct reads a Replan verdict as Continue; plan-and-execute re-plans on it.
    public static bool IsContinue(GoalEvaluated verdict) => verdict.Verdict is Verdict.Continue or Verdict.Replan;

    /// Why a proposal cannot be accepted: the planning call's error, or a plan that was asked for and is missing.
    public static string? Problem(AgentRunState run, StepProposed proposal) =>
        proposal.Error
        ?? (RunPlans.AsksForPlan(run) && proposal.Plan is null
            ? "the planning call returned no plan."
            : null);

    /// Records the proposal as the run's step, so that a redelivered proposal republishes exactly
    /// what was accepted rather than a second, possibly different, proposal.
    public static StepPlanned Accept(BehaviorContext<AgentRunState, StepProposed> c)
    {
        var step = Accepted(c.Saga, c.Message);
        c.Saga.PlannedStepJson = JsonSerializer.Serialize(step);
        c.Saga.ToolResultJson = null;
        c.Saga.PendingVerdictJson = null;
        if (c.Saga.PlanAndExecute)
        {
            RunPlans.Track(c.Saga, step);
        }

        return step;
    }

    public static Task PublishStep(BehaviorContext<AgentRunState, StepProposed> c) => c.Publish(Accept(c));

    public static Task RepublishStep<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Saga.PlannedStepJson is { } json ? c.Publish(JsonSerializer.Deserialize<StepPlanned>(json)!) : Task.CompletedTask;

    public static void RecordResults(AgentRunState run, ToolResult results) => run.ToolResultJson = JsonSerializer.Serialize(results);

    public static Task RequestContext<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Publish(ContextRequest(c.Saga, previousVerdict: null));

    /// Moves to the next step and asks for its context, carrying the step just judged.
    public static Task RequestNextContext(BehaviorContext<AgentRunState, GoalEvaluated> c)
    {
        var request = ContextRequest(c.Saga, c.Message) with { Step = c.Saga.Step + 1 };
        c.Saga.Step++;
        return c.Publish(request);
    }
}
