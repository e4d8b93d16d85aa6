using System.Globalization;
using Agentry.Agents;
using Agentry.Evaluation.Datasets;
using Agentry.Llm;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Evaluation.Grading;

/// A model judge grades the answer against the case's rubric, through Agentry's ModelGateway (the
/// judge model's provider, fallbacks, resilience and cache). Each case is judged in its own call,
/// with only that case's goal, rubric and answer in front of the judge, at temperature 0: a case's
/// grade cannot depend on which cases came before it. The judge's model and prompt version travel
/// with the grade.
public sealed partial class RubricGrader(ModelGateway models, ModelPrices prices, ModelChoice? judge, ILogger<RubricGrader> logger) : Grader
{
    /// A malformed grade is asked for once more, then counted as 0.
    public const int MaxReasks = 1;

    public override string Name => "rubric";

    /// The judge as results record it: the first model of its chain.
    public string JudgeModel => models.Describe(models.Chain(judge)[0]);

    public override bool Applies(EvalCase @case) => @case.Expect.Rubric is not null;

    public override async ValueTask<Grade> GradeAsync(EvalCase @case, RunEvidence run, CancellationToken cancellationToken)
    {
        var rubric = @case.Expect.Rubric!;
        if (string.IsNullOrWhiteSpace(run.Answer))
        {
            return new Grade(Name, 0, false, "The run gave no answer to grade against the rubric.", Metadata(JudgeModel, 0, 0));
        }

        CheckedReply<RubricGrade> reply;
        try
        {
            reply = await StructuredReplies.AskAsync(
                (history, token) => models.AskAsync(judge, history, new OpenAIPromptExecutionSettings { Temperature = 0 }, kernel: null, token),
                RubricPrompt.History(@case.Goal, rubric.Criteria, run.Answer),
                RubricPrompt.Check, MaxReasks, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogJudgeFailed(logger, @case.Id, e);
            var unasked = Metadata(JudgeModel, 0, 0);
            unasked[Grade.NotGradedKey] = "true";
            return new Grade(Name, 0, false, $"The rubric judge could not be asked: {e.Message}", unasked);
        }

        var metadata = Metadata(reply.Last.Model, prices.CostOf(reply.Attempts), reply.Usage.Total);
        if (!reply.IsValid)
        {
            return new Grade(Name, 0, false, $"The rubric judge's reply could not be read after {reply.Attempts.Count} attempts ({reply.Problem}); counted as 0.", metadata);
        }

        var grade = reply.Value!;
        var passed = grade.Score >= rubric.MinScore;
        return new Grade(Name, grade.Score, passed,
            string.Create(CultureInfo.InvariantCulture, $"Rubric score {grade.Score:0.##} ({(passed ? "at least" : "below")} the minimum of {rubric.MinScore:0.##}): {grade.Reason}"),
            metadata);
    }

    private static Dictionary<string, string> Metadata(string model, decimal cost, int tokens) => new()
    {
        [Grade.JudgeModelKey] = model,
        [Grade.JudgePromptKey] = RubricPrompt.Version,
        [Grade.JudgeCostKey] = cost.ToString(CultureInfo.InvariantCulture),
        [Grade.JudgeTokensKey] = tokens.ToString(CultureInfo.InvariantCulture),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "The rubric judge could not be asked for case {CaseId}.")]
    private static partial void LogJudgeFailed(ILogger logger, string caseId, Exception exception);
}
