using Agentry.Evaluation.Results;
using Agentry.Evaluation.Statistics;

namespace Agentry.Evaluation.Comparison;

public enum CaseChange
{
    Unchanged,
    Regressed,
    Improved,
    Added,
    Removed,
}

/// One case in both runs (or in one only).
public sealed record CaseComparison(string CaseId, CaseResult? Baseline, CaseResult? Current, CaseChange Change);

/// Two eval runs side by side, case by case. A case regresses when its verdict goes down (Pass to
/// Unstable or Fail, Unstable to Fail) and improves when it goes up; verdicts already account for
/// repeated trials (VerdictRule), so a gate on them does not flap with noise. The whole run
/// regresses too when its pass rate (share of cases that pass) drops by more than the threshold.
public sealed record EvalComparison(EvalRunRecord Baseline, EvalRunRecord Current, double Threshold, IReadOnlyList<CaseComparison> Cases)
{
    public IEnumerable<CaseComparison> Regressions => Cases.Where(c => c.Change == CaseChange.Regressed);

    public IEnumerable<CaseComparison> Improvements => Cases.Where(c => c.Change == CaseChange.Improved);

    public double PassRateDrop => Baseline.PassRate - Current.PassRate;

    /// What `agentry eval --baseline` exits 1 on.
    public bool HasRegression => Regressions.Any() || PassRateDrop > Threshold + 1e-9;

    /// What differs between the two runs besides the agent's behaviour, so nobody mistakes a new
    /// dataset or judge for a regression of the agent.
    public IEnumerable<string> Caveats
    {
        get
        {
            if (Baseline.Dataset != Current.Dataset)
            {
                yield return $"The runs are of different datasets ({Baseline.Dataset}, {Current.Dataset}).";
            }
            else if (Baseline.DatasetVersion != Current.DatasetVersion)
            {
                yield return $"The dataset changed between the runs (version {Baseline.DatasetVersion}, then {Current.DatasetVersion}).";
            }

            if (Baseline.JudgeModel != Current.JudgeModel || Baseline.JudgePromptVersion != Current.JudgePromptVersion)
            {
                yield return $"The rubric judge changed ({Baseline.JudgeModel} prompt {Baseline.JudgePromptVersion}, then {Current.JudgeModel} prompt {Current.JudgePromptVersion}).";
            }
        }
    }

    public static EvalComparison Of(EvalRunRecord baseline, EvalRunRecord current, double threshold = 0)
    {
        var cases = new List<CaseComparison>();
        foreach (var now in current.Cases)
        {
            var before = baseline.Find(now.CaseId);
            cases.Add(new CaseComparison(now.CaseId, before, now, before is null ? CaseChange.Added
                : now.Verdict < before.Verdict ? CaseChange.Regressed
                : now.Verdict > before.Verdict ? CaseChange.Improved
                : CaseChange.Unchanged));
        }

        cases.AddRange(baseline.Cases.Where(c => current.Find(c.CaseId) is null).Select(c => new CaseComparison(c.CaseId, c, null, CaseChange.Removed)));
        return new EvalComparison(baseline, current, threshold, cases);
    }
}
