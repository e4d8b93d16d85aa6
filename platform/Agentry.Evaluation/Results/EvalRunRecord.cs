using System.Text.Json.Serialization;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Statistics;

namespace Agentry.Evaluation.Results;

/// One `agentry eval`: what was evaluated (the dataset's version, each agent definition's hash, the
/// models that answered, the judge and its prompt version) and every trial of every case. Stored
/// whole, so that a later compare or report reads exactly what was graded.
public sealed record EvalRunRecord(
    Guid Id,
    string Dataset,
    string DatasetFile,
    string DatasetVersion,
    string Agents,
    string Model,
    string JudgeModel,
    string JudgePromptVersion,
    int Repeat,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    IReadOnlyList<CaseResult> Cases)
{
    [JsonIgnore]
    public int CasesPassed => Cases.Count(c => c.Verdict == CaseVerdict.Pass);

    [JsonIgnore]
    public double PassRate => Cases.Count == 0 ? 0 : (double)CasesPassed / Cases.Count;

    [JsonIgnore]
    public IEnumerable<TrialResult> Trials => Cases.SelectMany(c => c.Trials);

    [JsonIgnore]
    public decimal Cost => Trials.Sum(t => t.Cost);

    [JsonIgnore]
    public decimal JudgeCost => Trials.Sum(t => t.JudgeCost);

    [JsonIgnore]
    public long Tokens => Trials.Sum(t => (long)t.Tokens);

    [JsonIgnore]
    public TimeSpan LatencyP50 => Percentiles.Of(Trials.Select(t => t.Latency), 50);

    [JsonIgnore]
    public TimeSpan LatencyP95 => Percentiles.Of(Trials.Select(t => t.Latency), 95);

    /// Each grader's mean score over the trials it graded, in the order graders first appear.
    [JsonIgnore]
    public IReadOnlyList<(string Grader, double Mean, int Graded)> GraderScores =>
        Trials.SelectMany(t => t.Grades).GroupBy(g => g.Grader).Select(g => (g.Key, g.Average(x => x.Score), g.Count())).ToList();

    public CaseResult? Find(string caseId) => Cases.FirstOrDefault(c => c.CaseId == caseId);
}

/// A case's trials and the verdict the rule gives them at the case's threshold.
public sealed record CaseResult(string CaseId, string Agent, string Goal, double Threshold, IReadOnlyList<TrialResult> Trials)
{
    [JsonIgnore]
    public int Passes => Trials.Count(t => t.Passed);

    [JsonIgnore]
    public double PassRate => Trials.Count == 0 ? 0 : (double)Passes / Trials.Count;

    [JsonIgnore]
    public (double Lower, double Upper) Interval => Wilson.Interval(Passes, Trials.Count);

    [JsonIgnore]
    public CaseVerdict Verdict => VerdictRule.Of(Passes, Trials.Count, Threshold);

    /// The reasons of the failed grades of the failed trials, each once.
    [JsonIgnore]
    public IEnumerable<string> Failures => Trials.Where(t => !t.Passed).SelectMany(t => t.Grades.Where(g => !g.Passed).Select(g => $"{g.Grader}: {g.Reason}")).Distinct();
}

/// One run of one case and its grades. Passed when every grade passed.
public sealed record TrialResult(
    int Trial,
    Guid RunId,
    RunStatus? Status,
    string? Answer,
    IReadOnlyList<Grade> Grades,
    int Steps,
    int Tokens,
    decimal Cost,
    TimeSpan Latency)
{
    [JsonIgnore]
    public bool Passed => Grades.All(g => g.Passed);

    [JsonIgnore]
    public decimal JudgeCost => Grades.Sum(g => g.JudgeCost);

    /// The models that planned the run's steps.
    public IReadOnlyList<string> Models { get; init; } = [];
}
