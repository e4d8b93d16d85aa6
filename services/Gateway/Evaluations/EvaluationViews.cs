using Agentry.Evaluation.Comparison;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Statistics;

namespace Agentry.Gateway.Evaluations;

/// An eval run in GET /evaluations: what ran and how it went. Times in milliseconds, money in dollars.
public sealed record EvalRunListItem(
    Guid Id, string Dataset, string DatasetVersion, string Agents, string Model, DateTimeOffset StartedAt,
    int Cases, int CasesPassed, double PassRate, decimal Cost, decimal JudgeCost, long Tokens, double LatencyP50Ms, double LatencyP95Ms)
{
    public static EvalRunListItem Of(EvalRunSummary s) => new(
        s.Id, s.Dataset, s.DatasetVersion, s.Agents, s.Model, s.StartedAt, s.Cases, s.CasesPassed, s.PassRate,
        s.Cost, s.JudgeCost, s.Tokens, s.LatencyP50.TotalMilliseconds, s.LatencyP95.TotalMilliseconds);
}

public sealed record EvalRunList(IReadOnlyList<EvalRunListItem> Runs);

/// A grader's mean score over the trials it graded; Passed when every one of them passed it.
public sealed record GraderScoreView(string Grader, double Mean, int Graded, bool Passed);

/// One trial of a case: its run (GET /runs/{runId} while it is kept) and its grades.
public sealed record EvalTrialView(
    int Trial, Guid RunId, string? Status, bool Passed, string? Answer, IReadOnlyList<Grade> Grades, int Steps, int Tokens, decimal Cost, double LatencyMs,
    IReadOnlyList<string> Models);

/// A case as `agentry eval report` shows it: its verdict by the rule (docs/evaluation.md), trials
/// passed and their 95 % interval, each grader's mean, cost, tokens, latency p50, the failed
/// grades' reasons and the first answer.
public sealed record EvalCaseView(
    string CaseId, string Agent, string Goal, double Threshold, string Verdict, int Passes, int Trials, double PassRate,
    double IntervalLower, double IntervalUpper, IReadOnlyList<GraderScoreView> Graders, decimal Cost, long Tokens, double LatencyP50Ms,
    IReadOnlyList<string> Failures, string? Answer, IReadOnlyList<EvalTrialView> TrialResults)
{
    public static EvalCaseView Of(CaseResult c) => new(
        c.CaseId, c.Agent, c.Goal, c.Threshold, c.Verdict.ToString(), c.Passes, c.Trials.Count, c.PassRate, c.Interval.Lower, c.Interval.Upper,
        Scores(c.Trials), c.Trials.Sum(t => t.Cost), c.Trials.Sum(t => (long)t.Tokens), Percentiles.Of(c.Trials.Select(t => t.Latency), 50).TotalMilliseconds,
        [.. c.Failures], c.Trials.FirstOrDefault(t => t.Answer is not null)?.Answer,
        [.. c.Trials.Select(t => new EvalTrialView(t.Trial, t.RunId, t.Status?.ToString(), t.Passed, t.Answer, t.Grades, t.Steps, t.Tokens, t.Cost, t.Latency.TotalMilliseconds, t.Models))]);

    internal static IReadOnlyList<GraderScoreView> Scores(IEnumerable<TrialResult> trials) =>
        [.. trials.SelectMany(t => t.Grades).GroupBy(g => g.Grader).Select(g => new GraderScoreView(g.Key, g.Average(x => x.Score), g.Count(), g.All(x => x.Passed)))];
}

/// GET /evaluations/{id}: the run, what it was graded with, its cases, and the id of the dataset's
/// run before it (the comparison's default baseline), if one is stored.
public sealed record EvalRunView(
    Guid Id, string Dataset, string DatasetFile, string DatasetVersion, string Agents, string Model, string JudgeModel, string JudgePromptVersion,
    int Repeat, DateTimeOffset StartedAt, double DurationMs, int Cases, int CasesPassed, double PassRate, decimal Cost, decimal JudgeCost, long Tokens,
    double LatencyP50Ms, double LatencyP95Ms, IReadOnlyList<GraderScoreView> Graders, IReadOnlyList<EvalCaseView> CaseResults, Guid? PreviousId)
{
    public static EvalRunView Of(EvalRunRecord run, Guid? previousId) => new(
        run.Id, run.Dataset, run.DatasetFile, run.DatasetVersion, run.Agents, run.Model, run.JudgeModel, run.JudgePromptVersion, run.Repeat,
        run.StartedAt, run.Duration.TotalMilliseconds, run.Cases.Count, run.CasesPassed, run.PassRate, run.Cost, run.JudgeCost, run.Tokens,
        run.LatencyP50.TotalMilliseconds, run.LatencyP95.TotalMilliseconds, EvalCaseView.Scores(run.Trials), [.. run.Cases.Select(EvalCaseView.Of)], previousId);
}

/// A case's side of a comparison: its verdict, trials passed and why its failed trials failed.
public sealed record ComparedCaseSide(string Verdict, int Passes, int Trials, IReadOnlyList<string> Failures)
{
    public static ComparedCaseSide? Of(CaseResult? c) => c is null ? null : new(c.Verdict.ToString(), c.Passes, c.Trials.Count, [.. c.Failures]);
}

/// Change: Regressed, Improved, Unchanged, Added (only in b) or Removed (only in a).
public sealed record ComparedCaseView(string CaseId, string Change, ComparedCaseSide? Baseline, ComparedCaseSide? Current);

/// GET /evaluations/compare?a=&b=: b against a, as `agentry eval compare a b` prints it, from the same
/// EvalComparison. HasRegression is what the CLI's gate exits 1 on (at threshold 0).
public sealed record EvalComparisonView(
    EvalRunListItem Baseline, EvalRunListItem Current, double PassRateDrop, bool HasRegression, int Regressions, int Improvements,
    IReadOnlyList<string> Caveats, IReadOnlyList<ComparedCaseView> Cases)
{
    public static EvalComparisonView Of(EvalComparison comparison) => new(
        EvalRunListItem.Of(EvalRunSummary.Of(comparison.Baseline)), EvalRunListItem.Of(EvalRunSummary.Of(comparison.Current)),
        comparison.PassRateDrop, comparison.HasRegression, comparison.Regressions.Count(), comparison.Improvements.Count(), [.. comparison.Caveats],
        [.. comparison.Cases.Select(c => new ComparedCaseView(c.CaseId, c.Change.ToString(), ComparedCaseSide.Of(c.Baseline), ComparedCaseSide.Of(c.Current)))]);
}
