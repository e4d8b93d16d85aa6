using System.Text.Json;
using Agentry.Contracts;
using Agentry.Planner.Planning;
using MassTransit;
using static Agentry.Planner.StateMachines.RunMessages;

namespace Agentry.Planner.StateMachines;

/// Plan-and-execute (docs/decisions/0012): the run keeps a plan, runs it in waves of steps whose
/// dependencies are done, and re-plans when a call fails or the Evaluator asks, up to max_replans.
internal static class RunPlans
{
    public static void Begin(AgentRunState run, int maxReplans)
    {
        run.PlanAndExecute = true;
        run.MaxReplans = maxReplans;
        run.PlanRequestJson = JsonSerializer.Serialize(new PlanRequest(PlanAction.MakePlan));
    }

    /// Whether the current step's planning call was asked for a (new) plan.
    public static bool AsksForPlan(AgentRunState run) =>
        Deserialize<PlanRequest>(run.PlanRequestJson) is { Action: PlanAction.MakePlan or PlanAction.Replan };

    /// Which plan steps the accepted step runs. A new plan starts from nothing done, with the same
    /// first wave the planning call computed (PlanProgress is shared).
    public static void Track(AgentRunState run, StepPlanned step)
    {
        var request = Deserialize<PlanRequest>(run.PlanRequestJson)!;
        if (step.Plan is { } plan)
        {
            run.PlanJson = JsonSerializer.Serialize(plan);
            run.PlanStepsDone = [];
            run.PlanStepsRunning = [.. PlanProgress.NextWave(plan, [])];
        }
        else
        {
            run.PlanStepsRunning = request.Action == PlanAction.RunSteps ? [.. request.Steps ?? []] : [];
        }
    }

    /// A Continue or Replan verdict that came before its step's results waits for them.
    public static void HoldVerdict(AgentRunState run, GoalEvaluated verdict) => run.PendingVerdictJson = JsonSerializer.Serialize(verdict);

    public static GoalEvaluated PendingVerdict(AgentRunState run) => Deserialize<GoalEvaluated>(run.PendingVerdictJson)!;

    public static ToolResult? Results(AgentRunState run) => Deserialize<ToolResult>(run.ToolResultJson);

    public static bool OverReplanLimit(AgentRunState run, ToolResult? result, GoalEvaluated verdict) =>
        ReplanReason(result, verdict) is not null && run.Replans >= run.MaxReplans;

    public static string ReplanLimitReason(AgentRunState run, ToolResult? result, GoalEvaluated verdict) =>
        $"Re-plan limit reached: the plan went wrong at step {run.Step} after {run.Replans} re-plan(s), the most allowed ({run.MaxReplans}): {ReplanReason(result, verdict)}";

    /// Chooses the next step's work, then asks for its context: a re-plan when the step went wrong,
    /// else the next wave of the plan, or the answer when no step is left.
    public static Task Advance<T>(BehaviorContext<AgentRunState, T> c, ToolResult? result, GoalEvaluated verdict)
        where T : class
    {
        var run = c.Saga;
        var plan = Deserialize<Plan>(run.PlanJson)!;
        PlanRequest next;
        if (ReplanReason(result, verdict) is { } reason)
        {
            run.Replans++;
            next = new PlanRequest(PlanAction.Replan, plan, Reason: reason);
        }
        else
        {
            run.PlanStepsDone = [.. run.PlanStepsDone.Union(run.PlanStepsRunning).Order()];
            var wave = PlanProgress.NextWave(plan, run.PlanStepsDone);
            next = wave.Count == 0 ? new PlanRequest(PlanAction.Answer, plan) : new PlanRequest(PlanAction.RunSteps, plan, wave);
        }

        run.PlanRequestJson = JsonSerializer.Serialize(next);
        var request = ContextRequest(run, verdict) with { Step = run.Step + 1 };
        run.Step++;
        return c.Publish(request);
    }

    /// The person's guidance is a reason to plan again; a re-plan a person asked for is not
    /// counted against max_replans.
    public static void ReplanForGuidance(AgentRunState run, string guidance)
    {
        var plan = Deserialize<Plan>(run.PlanJson);
        run.PlanRequestJson = JsonSerializer.Serialize(plan is null
            ? new PlanRequest(PlanAction.MakePlan)
            : new PlanRequest(PlanAction.Replan, plan, Reason: $"A person resumed the run with guidance: {guidance}"));
    }

    /// Why the plan must be revised, or null: a call of the step failed, or the Evaluator asked.
    private static string? ReplanReason(ToolResult? result, GoalEvaluated verdict)
    {
        var failed = result?.Outcomes.Where(o => !o.Succeeded).ToList() ?? [];
        if (failed.Count > 0)
        {
            return string.Join("; ", failed.Select(o => $"the call {o.Tool} {o.Arguments.GetRawText()} failed ({o.ErrorKind}: {o.Error})")) + ".";
        }

        return verdict.Verdict == Verdict.Replan ? $"The Evaluator asked for a new plan: {verdict.Reason}" : null;
    }
}
