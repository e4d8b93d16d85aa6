using System.Globalization;
using System.Text.Json.Serialization;
using Agentry.Evaluation.Datasets;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.AI.Evaluation;

namespace Agentry.Evaluation.Grading;

/// One grader's result for one trial: a score from 0 to 1, whether it passed, and why. Metadata
/// carries what the result depends on beyond the run (the judge's model and prompt version, its spend).
public sealed record Grade(string Grader, double Score, bool Passed, string Reason, IReadOnlyDictionary<string, string>? Metadata = null)
{
    public const string JudgeModelKey = "judge.model";
    public const string JudgePromptKey = "judge.prompt_version";
    public const string JudgeCostKey = "judge.cost";
    public const string JudgeTokensKey = "judge.tokens";

    /// Set when the grader could not grade at all (the judge could not be asked, the grader threw):
    /// the score of 0 says nothing of the run, and online evaluation leaves it out of the run's score.
    public const string NotGradedKey = "grade.not_graded";

    [JsonIgnore]
    public bool NotGraded => Metadata?.ContainsKey(NotGradedKey) == true;

    [JsonIgnore]
    public decimal JudgeCost => Metadata?.GetValueOrDefault(JudgeCostKey) is { } cost ? decimal.Parse(cost, CultureInfo.InvariantCulture) : 0;

    [JsonIgnore]
    public int JudgeTokens => Metadata?.GetValueOrDefault(JudgeTokensKey) is { } tokens ? int.Parse(tokens, CultureInfo.InvariantCulture) : 0;

    /// As M.E.AI's result shape: a numeric metric named after the grader, interpreted as passed or failed.
    public NumericMetric ToMetric()
    {
        var metric = new NumericMetric(Grader, Score, Reason)
        {
            Interpretation = new EvaluationMetricInterpretation(
                Passed ? EvaluationRating.Good : EvaluationRating.Unacceptable, failed: !Passed, Reason),
        };
        foreach (var (key, value) in Metadata ?? new Dictionary<string, string>())
        {
            metric.AddOrUpdateMetadata(key, value);
        }

        return metric;
    }

    public static Grade FromMetric(NumericMetric metric) => new(
        metric.Name,
        metric.Value ?? 0,
        metric.Interpretation is { Failed: false },
        metric.Reason ?? "",
        metric.Metadata is { Count: > 0 } metadata ? new Dictionary<string, string>(metadata) : null);

    /// A grader made of several checks: the share that held, passed when all did, and the failures as the reason.
    public static Grade OfChecks(string grader, IReadOnlyList<(bool Held, string Failure)> checks)
    {
        var failures = checks.Where(c => !c.Held).Select(c => c.Failure).ToList();
        var score = checks.Count == 0 ? 1 : (double)(checks.Count - failures.Count) / checks.Count;
        return new Grade(grader, score, failures.Count == 0, failures.Count == 0 ? $"{checks.Count} of {checks.Count} checks held." : string.Join(" ", failures));
    }
}

/// An Agentry grader, in the shape of Microsoft.Extensions.AI.Evaluation's IEvaluator: one numeric
/// metric named after the grader, its interpretation saying whether the trial passed. The case and
/// its run come in the additional context (<see cref="CaseEvidence"/>).
public abstract class Grader : IEvaluator
{
    public abstract string Name { get; }

    public IReadOnlyCollection<string> EvaluationMetricNames => [Name];

    /// Whether the case asks anything of this grader; a grader that does not apply is not run.
    public abstract bool Applies(EvalCase @case);

    public abstract ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken);

    public async ValueTask<EvaluationResult> EvaluateAsync(
        IEnumerable<ChatMessage> messages,
        ChatResponse modelResponse,
        ChatConfiguration? chatConfiguration = null,
        IEnumerable<EvaluationContext>? additionalContext = null,
        CancellationToken cancellationToken = default)
    {
        var evidence = additionalContext?.OfType<CaseEvidence>().FirstOrDefault()
            ?? throw new ArgumentException($"The {Name} grader grades an Agentry run: pass a {nameof(CaseEvidence)} in the additional context.", nameof(additionalContext));
        var grade = await GradeAsync(evidence.Case, evidence.Run, cancellationToken);
        return new EvaluationResult(grade.ToMetric());
    }
}
