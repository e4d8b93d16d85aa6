using System.Globalization;
using Agentry.Evaluation.Comparison;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Statistics;
using Agentry.Llm;

namespace Agentry.Cli.Eval;

/// What `agentry eval` and `agentry eval compare` print on standard output.
public static class EvalTables
{
    public static void PrintRun(TextWriter output, EvalRunRecord run)
    {
        output.WriteLine($"Eval run {run.Id}");
        output.WriteLine($"Dataset: {run.Dataset} (version {run.DatasetVersion}, {run.DatasetFile})");
        output.WriteLine($"Agents: {run.Agents}   Model: {Or(run.Model)}   Repeat: {run.Repeat}");
        output.WriteLine($"Judge: {Or(run.JudgeModel)} (rubric prompt {run.JudgePromptVersion}){(run.JudgeModel.Contains("offline", StringComparison.Ordinal) ? ": the offline model does not grade; configure a real judge model for rubric grades" : "")}");
        output.WriteLine();
        var width = Math.Max(4, run.Cases.Max(c => c.CaseId.Length));
        var repeated = run.Repeat > 1;
        output.WriteLine($"{"case".PadRight(width)}  {"agent",-16} {"passed",7}  {(repeated ? $"{"95% interval",-13} " : "")}{"verdict",-8}  {"tokens",7}  {"cost",9}  {"latency",8}");
        foreach (var c in run.Cases)
        {
            var interval = repeated ? $"{Percent(c.Interval.Lower)}-{Percent(c.Interval.Upper),-8} " : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.CaseId.PadRight(width)}  {c.Agent,-16} {$"{c.Passes}/{c.Trials.Count}",7}  {interval}{Verdict(c.Verdict),-8}  {c.Trials.Sum(t => t.Tokens),7}  {ModelPrices.Format(c.Trials.Sum(t => t.Cost)),9}  {Seconds(Percentiles.Of(c.Trials.Select(t => t.Latency), 50)),8}"));
        }

        var failing = run.Cases.Where(c => c.Verdict != CaseVerdict.Pass).ToList();
        if (failing.Count > 0)
        {
            output.WriteLine();
            foreach (var c in failing)
            {
                output.WriteLine($"{c.CaseId}: {Verdict(c.Verdict)} ({c.Passes} of {c.Trials.Count} trials passed; threshold {Percent(c.Threshold)})");
                foreach (var failure in c.Failures.Take(5))
                {
                    output.WriteLine($"  {failure}");
                }
            }
        }

        output.WriteLine();
        output.WriteLine($"Cases passed: {run.CasesPassed} of {run.Cases.Count} ({Percent(run.PassRate)})");
        var trials = run.Trials.ToList();
        var passedTrials = trials.Count(t => t.Passed);
        if (repeated)
        {
            var (lower, upper) = Wilson.Interval(passedTrials, trials.Count);
            output.WriteLine($"Trials passed: {passedTrials} of {trials.Count} ({Percent((double)passedTrials / trials.Count)}, 95% interval {Percent(lower)}-{Percent(upper)})");
        }

        output.WriteLine("Graders (mean score over the trials each graded): " + string.Join("   ",
            run.GraderScores.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Grader} {g.Mean:0.00} ({g.Graded})"))));
        output.WriteLine($"Cost: {ModelPrices.Format(run.Cost)} (agents) + {ModelPrices.Format(run.JudgeCost)} (judge)   Tokens: {run.Tokens}   Latency: p50 {Seconds(run.LatencyP50)}, p95 {Seconds(run.LatencyP95)}");
    }

    public static void PrintComparison(TextWriter output, EvalComparison comparison)
    {
        var (baseline, current) = (comparison.Baseline, comparison.Current);
        output.WriteLine($"Baseline: {baseline.Id} ({baseline.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm}, {baseline.Agents}, {Or(baseline.Model)})");
        output.WriteLine($"Current:  {current.Id} ({current.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm}, {current.Agents}, {Or(current.Model)})");
        foreach (var caveat in comparison.Caveats)
        {
            output.WriteLine($"Note: {caveat}");
        }

        output.WriteLine();
        var width = Math.Max(4, comparison.Cases.Max(c => c.CaseId.Length));
        output.WriteLine($"{"case".PadRight(width)}  {"baseline",-16} {"current",-16} change");
        foreach (var c in comparison.Cases.OrderBy(c => c.Change == CaseChange.Unchanged).ThenBy(c => c.Change))
        {
            output.WriteLine($"{c.CaseId.PadRight(width)}  {Cell(c.Baseline),-16} {Cell(c.Current),-16} {c.Change.ToString().ToUpperInvariant()}");
            if (c.Change == CaseChange.Regressed)
            {
                foreach (var failure in c.Current!.Failures.Take(3))
                {
                    output.WriteLine($"{"".PadRight(width)}    {failure}");
                }
            }
        }

        output.WriteLine();
        var drop = comparison.PassRateDrop;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Cases passed: {Percent(baseline.PassRate)} -> {Percent(current.PassRate)} ({(drop > 0 ? "-" : "+")}{Math.Abs(drop) * 100:0.#} points; allowed drop {comparison.Threshold * 100:0.#} points)"));
        output.WriteLine($"{comparison.Regressions.Count()} regression(s), {comparison.Improvements.Count()} improvement(s).");
    }

    private static string Cell(CaseResult? result) => result is null ? "-" : $"{Verdict(result.Verdict)} {result.Passes}/{result.Trials.Count}";

    private static string Verdict(CaseVerdict verdict) => verdict.ToString().ToUpperInvariant();

    private static string Or(string text) => text.Length == 0 ? "-" : text;

    internal static string Percent(double share) => string.Create(CultureInfo.InvariantCulture, $"{share * 100:0}%");

    private static string Seconds(TimeSpan duration) => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.00} s");
}

/// Progress on standard error: a bar redrawn in place on a terminal, one line per trial otherwise
/// (CI logs, pipes), so that standard output keeps only the table.
public sealed class EvalProgressWriter(TextWriter error, bool terminal) : IProgress<Agentry.Evaluation.Running.EvalProgress>
{
    private readonly Lock _gate = new();

    public void Report(Agentry.Evaluation.Running.EvalProgress value)
    {
        lock (_gate)
        {
            if (!terminal)
            {
                error.WriteLine($"[{value.Done}/{value.Total}] {value.CaseId} trial {value.Trial}: {(value.Passed ? "pass" : "fail")}");
                return;
            }

            const int width = 30;
            var filled = value.Done * width / value.Total;
            error.Write($"\r[{new string('#', filled)}{new string('-', width - filled)}] {value.Done}/{value.Total} {value.CaseId,-30}");
            if (value.Done == value.Total)
            {
                error.WriteLine();
            }
        }
    }
}
