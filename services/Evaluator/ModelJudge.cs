using System.Globalization;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Evaluator;

/// The optional model judge of a final answer, for agents with `evaluation: { judge: true }`. It
/// runs after the rules accepted the answer; an answer the judge is not confident enough in goes
/// to a person (Escalate) rather than out as the run's result.
public sealed partial class ModelJudge(ModelGateway models, ModelPrices prices, ILogger<ModelJudge> logger)
{
    /// A malformed verdict is asked for once more, then counted as no confidence at all.
    public const int MaxReasks = 1;

    /// The judge asks the evaluation's own model when the agent names one, else the agent's, with the
    /// same fallbacks, resilience and cache as planning.
    public async Task<GoalEvaluated> JudgeAsync(StepPlanned step, AgentDefinition agent, CancellationToken cancellationToken)
    {
        var evaluation = agent.Evaluation;
        var model = evaluation.Model ?? agent.Model;
        var settings = new OpenAIPromptExecutionSettings { Temperature = 0 };
        CheckedReply<JudgeVerdict> reply;
        try
        {
            reply = await StructuredReplies.AskAsync(
                (history, token) => models.AskAsync(model, history, settings, kernel: null, token),
                JudgePrompt.History(step.Goal ?? "", step.FinalAnswer ?? ""),
                JudgePrompt.Check, MaxReasks, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogJudgeFailed(logger, step.RunId, step.Step, e);
            return Verdict(step, Contracts.Verdict.Escalate, $"The model judge could not be asked ({e.Message}); a person should check the answer.", 0, null, 0);
        }

        var cost = prices.CostOf(reply.Attempts);
        var minimum = Number(evaluation.MinConfidence);
        if (!reply.IsValid)
        {
            return Verdict(step, Contracts.Verdict.Escalate,
                $"The model judge's reply could not be read after {reply.Attempts.Count} attempts ({reply.Problem}); treated as no confidence, below the minimum of {minimum}.",
                0, reply.Usage, cost);
        }

        var verdict = reply.Value!;
        var confidence = Number(verdict.Confidence);
        if (!verdict.Achieved)
        {
            return Verdict(step, Contracts.Verdict.Escalate,
                $"The model judge found that the answer does not achieve the goal (confidence {confidence}): {verdict.Reason}", verdict.Confidence, reply.Usage, cost);
        }

        if (verdict.Confidence < evaluation.MinConfidence)
        {
            return Verdict(step, Contracts.Verdict.Escalate,
                $"The model judge's confidence in the answer, {confidence}, is below the minimum of {minimum}: {verdict.Reason}", verdict.Confidence, reply.Usage, cost);
        }

        return Verdict(step, Contracts.Verdict.Complete,
            $"The model judge accepted the answer (confidence {confidence}, minimum {minimum}): {verdict.Reason}", verdict.Confidence, reply.Usage, cost)
            with { FinalAnswer = step.FinalAnswer };
    }

    private static GoalEvaluated Verdict(StepPlanned step, Verdict verdict, string reason, double confidence, TokenUsage? usage, decimal cost) =>
        new(step.RunId, step.TenantId, step.Step, verdict, reason, confidence, Usage: usage, Cost: cost);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model judge could not be asked for run {RunId} step {Step}.")]
    private static partial void LogJudgeFailed(ILogger logger, Guid runId, int step, Exception exception);
}
