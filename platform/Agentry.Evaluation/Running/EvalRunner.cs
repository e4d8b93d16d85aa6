using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Results;
using Agentry.Llm;

namespace Agentry.Evaluation.Running;

/// Runs one case once through a runtime (embedded, or a deployment) and returns what the run left.
public interface ICaseRunner
{
    Task<RunEvidence> RunAsync(EvalCase @case, string agent, CancellationToken cancellationToken);
}

/// What `agentry eval` was asked: the agent (for every case, over the dataset's), trials per case, runs at once.
public sealed record EvalSettings(string? Agent = null, int Repeat = 1, int Concurrency = 1)
{
    public const int MaxRepeat = 100;
    public const int MaxConcurrency = 32;
}

/// A trial finished: Done of Total.
public sealed record EvalProgress(int Done, int Total, string CaseId, int Trial, bool Passed);

/// Describes what is evaluated, for the stored record: each agent definition's hash, the model asked.
public sealed record EvalSubject(Func<string, string> AgentHash, string? ModelOverride);

/// Runs every case of a dataset Repeat times, Concurrency trials at once, grades each trial as soon
/// as its run ends (each grader on its own; the rubric judge sees only that case), and keeps the
/// results in the dataset's case order whatever order the trials finished in.
public sealed class EvalRunner(IReadOnlyList<Grader> graders, TimeProvider time)
{
    public async Task<EvalRunRecord> RunAsync(
        EvalDataset dataset, EvalSettings settings, EvalSubject subject, ICaseRunner runner, IProgress<EvalProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Repeat, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Concurrency, 1);
        var started = time.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var work = dataset.Cases.SelectMany(c => Enumerable.Range(1, settings.Repeat).Select(trial => (Case: c, Trial: trial))).ToList();
        var results = new TrialResult[work.Count];
        var done = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, work.Count),
            new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var (@case, trial) = work[index];
                var evidence = await runner.RunAsync(@case, dataset.AgentOf(@case, settings.Agent), token);
                results[index] = await GradeAsync(@case, trial, evidence, token);
                progress?.Report(new EvalProgress(Interlocked.Increment(ref done), work.Count, @case.Id, trial, results[index].Passed));
            });

        var cases = dataset.Cases.Select((c, i) => new CaseResult(
            c.Id, dataset.AgentOf(c, settings.Agent), c.Goal, dataset.ThresholdOf(c),
            results.Skip(i * settings.Repeat).Take(settings.Repeat).ToList())).ToList();
        var trials = cases.SelectMany(c => c.Trials).ToList();
        var models = ModelsOf(trials, subject);
        var judge = graders.OfType<RubricGrader>().FirstOrDefault();
        var judgeModels = trials.SelectMany(t => t.Grades).Select(g => g.Metadata?.GetValueOrDefault(Grade.JudgeModelKey)).OfType<string>().Distinct().ToList();
        return new EvalRunRecord(
            Guid.NewGuid(),
            dataset.Name,
            dataset.File,
            dataset.Version,
            string.Join(", ", cases.Select(c => c.Agent).Distinct().Order(StringComparer.Ordinal).Select(a => $"{a}@{subject.AgentHash(a)}")),
            models,
            judgeModels.Count > 0 ? string.Join(", ", judgeModels) : judge?.JudgeModel ?? "",
            RubricPrompt.Version,
            settings.Repeat,
            startedAt,
            time.GetElapsedTime(started),
            cases);
    }

    private static string ModelsOf(List<TrialResult> trials, EvalSubject subject)
    {
        var answered = trials.SelectMany(t => t.Models).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return answered.Count > 0 ? string.Join(", ", answered) : subject.ModelOverride ?? "";
    }

    private async Task<TrialResult> GradeAsync(EvalCase @case, int trial, RunEvidence evidence, CancellationToken cancellationToken)
    {
        var context = new CaseEvidence(@case, evidence);
        var grades = new List<Grade>();
        foreach (var grader in graders.Where(g => g.Applies(@case)))
        {
            // Through the IEvaluator surface, as any M.E.AI evaluation pipeline would call it.
            var result = await grader.EvaluateAsync(context.Messages, context.Response, additionalContext: [context], cancellationToken: cancellationToken);
            grades.AddRange(result.Metrics.Values.OfType<Microsoft.Extensions.AI.Evaluation.NumericMetric>().Select(Grade.FromMetric));
        }

        return new TrialResult(trial, evidence.Run.RunId, evidence.Run.Status, evidence.Run.Answer, grades, evidence.Steps, evidence.Tokens, evidence.Cost, evidence.Latency)
        {
            Models = evidence.Models,
        };
    }
}
