using System.Globalization;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;

namespace Agentry.Agents;

/// What makes a goal unusable before any work starts. The Gateway and the CLI check it to answer
/// at once; the saga checks it again for goals published straight onto the broker.
public static class GoalValidation
{
    /// Why a goal published on the broker cannot start a run: what Problem checks, and its size.
    public static string? Problem(AgentCatalog agents, GoalReceived goal, GoalBounds bounds) =>
        SizeProblem(goal.Goal, goal.Input, bounds) ?? Problem(agents, goal.Agent, goal.Goal, goal.Limits);

    /// A goal or an input over the bounds, named with the field and the setting; null when within.
    public static string? SizeProblem(string? goal, JsonElement? input, GoalBounds bounds)
    {
        if (goal is { Length: var length } && length > bounds.MaxGoalCharacters)
        {
            return string.Create(CultureInfo.InvariantCulture, $"goal is {length:N0} characters; the limit is {bounds.MaxGoalCharacters:N0} (Goals:MaxGoalCharacters).");
        }

        if (input is not { } json)
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetByteCount(json.GetRawText());
        if (bytes > bounds.MaxInputBytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"input is {bytes:N0} bytes of JSON; the limit is {bounds.MaxInputBytes:N0} (Goals:MaxInputBytes).");
        }

        var depth = Depth(json);
        return depth > bounds.MaxInputDepth
            ? string.Create(CultureInfo.InvariantCulture, $"input nests {depth} levels deep; the limit is {bounds.MaxInputDepth} (Goals:MaxInputDepth).")
            : null;
    }

    private static int Depth(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => 1 + element.EnumerateObject().Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + element.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

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
