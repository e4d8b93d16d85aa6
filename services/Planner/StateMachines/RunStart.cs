using Agentry.Contracts;
using System.Text;
using Agentry.Agents;
using Agentry.ServiceDefaults.Payloads;

namespace Agentry.Planner.StateMachines;

/// A new run takes its limits from the goal, else from its agent's definition. A goal that cannot
/// start (unknown agent, bad limits) or could not be read still makes a run, recorded as failed.
internal sealed class RunStart(AgentCatalog agents, GoalBounds bounds, TimeProvider clock)
{
    /// Why the goal cannot start a run, or null.
    public string? Problem(GoalReceived goal) =>
        GoalValidation.Problem(agents, goal, bounds);

    public void Begin(AgentRunState run, GoalReceived goal) => Begin(run, goal, agents.Find(goal.Agent)!);

    /// The deadline the goal's run would have if it started now.
    public DateTimeOffset DeadlineOf(GoalReceived goal) =>
        clock.GetUtcNow() + (goal.Limits?.Deadline ?? agents.Find(goal.Agent)!.Limits.Deadline);

    /// A refused goal's run, with the default limits whatever its agent says.
    public void BeginRefused(AgentRunState run, GoalReceived goal) => Begin(run, goal, agent: null);

    /// An input over Payloads:InlineBytes is stored once and the run keeps its reference, so neither the
    /// state nor each step's ContextRequested carries it (docs/durability.md).
    public static async Task KeepInputOutOfLine(AgentRunState run, PayloadStore? payloads, CancellationToken cancellationToken)
    {
        if (payloads is null || run.InputJson is not { } input || !payloads.IsLarge(input))
        {
            return;
        }

        run.InputRef = await payloads.PutAsync(Encoding.UTF8.GetBytes(input), PayloadStore.JsonMediaType, cancellationToken);
        run.InputJson = null;
    }

    public void BeginFaulted(AgentRunState run, RunFaulted fault)
    {
        run.TenantId = ServiceDefaults.Extensions.TenantOf(fault.TenantId);
        run.StartedAt = clock.GetUtcNow();
    }

    private void Begin(AgentRunState run, GoalReceived goal, AgentDefinition? agent)
    {
        var limits = agent?.Limits ?? AgentLimits.Default;
        run.TenantId = ServiceDefaults.Extensions.TenantOf(goal.TenantId);
        run.Agent = goal.Agent;
        // A refused goal over its bounds is not kept: its reason says how large it was.
        var oversize = agent is null && GoalValidation.SizeProblem(goal.Goal, goal.Input, bounds) is not null;
        run.Goal = oversize ? "" : goal.Goal;
        run.InputJson = oversize ? null : goal.Input?.GetRawText();
        run.UserId = string.IsNullOrWhiteSpace(goal.UserId) ? null : goal.UserId;
        run.Trigger = goal.Trigger;
        run.Origin = goal.Origin;
        run.Step = 1;
        run.MaxSteps = goal.Limits?.MaxSteps ?? limits.MaxSteps;
        run.MaxTokens = goal.Limits?.MaxTokens ?? limits.MaxTokens;
        run.MaxCost = goal.Limits?.MaxCost ?? limits.MaxCost;
        run.StartedAt = clock.GetUtcNow();
        run.Deadline = run.StartedAt + (goal.Limits?.Deadline ?? limits.Deadline);
        run.StepAllowance = run.MaxSteps;
        run.DeadlineAllowance = run.Deadline - run.StartedAt;
        if (agent?.Strategy == PlanningStrategy.PlanAndExecute)
        {
            RunPlans.Begin(run, limits.MaxReplans);
        }
    }
}
