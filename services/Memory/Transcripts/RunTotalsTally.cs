using Agentry.Contracts;

namespace Agentry.Memory;

/// A run as the totals count it. At: when it started (when it ended, for a run whose start has not
/// arrived); Usage and Cost: null until it ended.
/// ExtractionUsage and ExtractionCost: asking what the run taught about its user, after it ended.
public sealed record CountedRun(string Agent, DateTimeOffset At, RunStatus Status, TokenUsage? Usage, decimal? Cost,
    TokenUsage? ExtractionUsage = null, decimal? ExtractionCost = null);

/// How every store turns the runs of a window into totals per agent per day, so that SQLite and
/// MongoDB count alike: the stores only read the runs.
public static class RunTotalsTally
{
    public static IReadOnlyList<AgentDayTotals> Of(IEnumerable<CountedRun> runs) =>
        runs.GroupBy(run => (run.Agent, Day: DateOnly.FromDateTime(run.At.UtcDateTime)))
            .OrderBy(day => day.Key.Day).ThenBy(day => day.Key.Agent, StringComparer.Ordinal)
            .Select(day =>
            {
                int Count(RunStatus status) => day.Count(run => run.Status == status);
                var (completed, running, all) = (Count(RunStatus.Completed), Count(RunStatus.Running), day.Count());
                return new AgentDayTotals(
                    day.Key.Agent,
                    day.Key.Day,
                    all,
                    completed,
                    Count(RunStatus.Failed),
                    Count(RunStatus.Escalated),
                    Count(RunStatus.Cancelled),
                    running,
                    all == running ? null : (double)completed / (all - running),
                    // What the agent's runs of the day spent, learning from them after they ended included.
                    new TokenUsage(
                        day.Sum(run => (run.Usage?.InputTokens ?? 0) + (run.ExtractionUsage?.InputTokens ?? 0)),
                        day.Sum(run => (run.Usage?.OutputTokens ?? 0) + (run.ExtractionUsage?.OutputTokens ?? 0))),
                    day.Sum(run => (run.Cost ?? 0m) + (run.ExtractionCost ?? 0m)));
            })
            .ToList();
}
