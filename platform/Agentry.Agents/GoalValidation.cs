using Agentry.Contracts;

namespace Agentry.Agents;

/// What makes a goal unusable before any work starts. The Gateway and the CLI check it to answer
/// at once; the saga checks it again for goals published straight onto the broker.
public static class GoalValidation
{
    public static string? Problem(AgentCatalog agents, string? agent, string? goal, RunLimits? limits = null)
    {
        if (string.IsNullOrWhiteSpace(goal))
        {
            return "The goal is empty: say what the agent should do.";
        }

        if (string.IsNullOrWhiteSpace(agent))
        {
            return "No agent named: say which agent should run the goal.";
        }

        if (agents.Find(agent) is null)
        {
            return agents.DescribeUnknown(agent);
        }

        return limits switch
        {
            { MaxSteps: < 1 } => $"The run's step limit must be at least 1, not {limits.MaxSteps}.",
            { MaxTokens: < 1 } => $"The run's token limit must be at least 1, not {limits.MaxTokens}.",
            { Deadline: { } d } when d <= TimeSpan.Zero => $"The run's deadline must be more than zero, not {d}.",
            { MaxCost: <= 0 } => $"The run's cost limit must be more than zero US dollars, not {limits.MaxCost}.",
            _ => null,
        };
    }
}
