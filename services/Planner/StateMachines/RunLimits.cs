using System.Globalization;
using Agentry.Contracts;
using Agentry.Llm;

namespace Agentry.Planner.StateMachines;

/// The limits a run is held to (steps, tokens, cost, deadline; re-plans are RunPlans'), the spend
/// counted against them, and the reason a person reads when one ends the run.
internal static class RunLimits
{
    public static bool OverTokenLimit(AgentRunState run, StepProposed proposal) =>
        run.InputTokens + run.OutputTokens + UsageOf(proposal).Total > run.MaxTokens;

    // Spend over the limit ends the run; spend exactly at it does not, as with tokens.
    public static bool OverCostLimit(AgentRunState run, StepProposed proposal) =>
        run.MaxCost is { } limit && run.TotalCost + CostOf(proposal) > limit;

    public static bool WithinLimits(AgentRunState run, StepProposed proposal) =>
        !OverTokenLimit(run, proposal) && !OverCostLimit(run, proposal);

    public static bool HasStepsLeft(AgentRunState run) => run.Step < run.MaxSteps;

    /// A proposal is accepted once per step (its transitions leave the states that accept it), so the
    /// planning call and the model calls that built its context (a summary) are counted once.
    public static void AddUsage(AgentRunState run, StepProposed proposal) => AddUsage(run, UsageOf(proposal), CostOf(proposal));

    public static void AddUsage(AgentRunState run, TokenUsage usage, decimal cost)
    {
        run.InputTokens += usage.InputTokens;
        run.OutputTokens += usage.OutputTokens;
        run.TotalCost += cost;
    }

    // A verdict is accepted once per step (its transitions leave the state that accepts it), so a
    // judge's usage is counted once.
    public static void Remember(AgentRunState run, GoalEvaluated verdict)
    {
        AddUsage(run, verdict.Usage ?? TokenUsage.None, verdict.Cost);
        run.LastVerdict = verdict.Verdict.ToString();
        run.LastReason = verdict.Reason;
    }

    private static TokenUsage UsageOf(StepProposed proposal) =>
        proposal.ContextUsage is { } context ? proposal.Usage + context : proposal.Usage;

    private static decimal CostOf(StepProposed proposal) => proposal.Cost + proposal.ContextCost;

    public static string TokenLimitReason(AgentRunState run) =>
        $"Token limit reached: the run used {run.InputTokens + run.OutputTokens} tokens by step {run.Step}, over its limit of {run.MaxTokens}.";

    public static string CostLimitReason(AgentRunState run) =>
        $"Cost limit of {ModelPrices.Format(run.MaxCost!.Value)} reached ({ModelPrices.Format(run.TotalCost)} spent by step {run.Step}).";

    public static string StepLimitReason(AgentRunState run) =>
        $"Step limit reached: {run.MaxSteps} steps taken without a final answer.";

    public static string DeadlineReason(AgentRunState run, RunDeadlineReached reached) =>
        $"Deadline passed: the run was still {Doing(run.CurrentState)} at step {run.Step} at {reached.Deadline.ToString("u", CultureInfo.InvariantCulture)}, {Describe(run.Deadline - run.StartedAt)} after it started.";

    // A run waits in LoadingContext while Memory assembles its context and the model plans
    // (docs/decisions/0030): to a person that is planning.
    private static string Doing(string state) => state == "LoadingContext" ? "Planning" : state;

    private static string Describe(TimeSpan duration) =>
        duration.TotalSeconds < 120
            ? $"{duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)}m";
}
