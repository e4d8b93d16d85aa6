using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// Runs pinned to their definition (docs/durability.md, decision 0028): a run acts on the version of
/// its agent it started with, whatever is deployed since, until an operator moves it to the current
/// one; the move waits for the next step boundary, so a step never mixes two versions.
internal sealed class RunDefinitions(PinnedAgents agents, RunOutcomes end)
{
    /// At the start: the Planner's current definition of the agent, kept in the definition store
    /// before any message carries its hash.
    public async Task Pin(BehaviorContext<AgentRunState, GoalReceived> c)
    {
        var agent = agents.Catalog.Find(c.Saga.Agent)!;
        c.Saga.AgentHash = agent.Hash;
        c.Saga.GoalLimitsJson = c.Message.Limits is null ? null : JsonSerializer.Serialize(c.Message.Limits);
        await agents.KeepAsync(agent, c.CancellationToken);
    }

    /// A move of the run's own tenant to a version it is neither on nor already moving to.
    public static bool IsNewMove(AgentRunState run, MoveRunDefinition move) =>
        move.TenantId == run.TenantId && move.ToHash != (run.MoveToAgentHash ?? run.AgentHash);

    /// Back to the pinned version cancels a move still waiting.
    public static void Request(AgentRunState run, MoveRunDefinition move)
    {
        run.MoveToAgentHash = move.ToHash == run.AgentHash ? null : move.ToHash;
        run.MoveRequestedBy = run.MoveToAgentHash is null ? null : move.By;
    }

    /// At a step boundary, before the next step's first message: the run takes the new version and its limits.
    public async Task ApplyMove<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        var run = c.Saga;
        if (run.MoveToAgentHash is not { } to)
        {
            return;
        }

        var from = await agents.FindAsync(run.Agent, run.AgentHash, c.CancellationToken);
        var next = await agents.GetAsync(run.Agent, to, c.CancellationToken);
        var deadline = run.Deadline;
        ApplyLimits(run, from?.Limits ?? AgentLimits.Default, next.Limits, RunMessages.Deserialize<Contracts.RunLimits>(run.GoalLimitsJson));
        run.AgentHash = to;
        run.MoveToAgentHash = null;
        run.MoveRequestedBy = null;
        if (run.Deadline != deadline)
        {
            await end.SetDeadline(c);
        }
    }

    /// The new definition's limits replace the old one's; a limit the goal set stays. Steps and time
    /// move by the difference between the two definitions, so a resume's fresh allowance is kept; a
    /// step limit already reached lets the step that starts now finish, and the run ends at its limit.
    /// Tokens and cost spent so far still count.
    internal static void ApplyLimits(AgentRunState run, AgentLimits from, AgentLimits to, Contracts.RunLimits? goal)
    {
        if (goal?.MaxSteps is null)
        {
            var steps = to.MaxSteps - from.MaxSteps;
            run.MaxSteps = Math.Max(run.MaxSteps + steps, run.Step + 1);
            run.StepAllowance = Math.Max(run.StepAllowance + steps, 1);
        }

        if (goal?.MaxTokens is null)
        {
            run.MaxTokens = to.MaxTokens;
        }

        if (goal?.MaxCost is null)
        {
            run.MaxCost = to.MaxCost;
        }

        if (goal?.Deadline is null)
        {
            var time = to.Deadline - from.Deadline;
            run.Deadline += time;
            run.DeadlineAllowance = TimeSpan.FromTicks(Math.Max((run.DeadlineAllowance + time).Ticks, TimeSpan.FromSeconds(1).Ticks));
        }

        if (run.PlanAndExecute)
        {
            run.MaxReplans = to.MaxReplans;
        }
    }
}
