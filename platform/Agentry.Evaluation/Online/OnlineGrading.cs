using Agentry.Agents;
using Agentry.Agents.Evaluation;
using Agentry.Contracts;
using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Agentry.Llm;
using Microsoft.Extensions.AI.Evaluation;
using Microsoft.Extensions.Logging;

namespace Agentry.Evaluation.Online;

/// Grades a sampled production run with the graders `agentry eval` uses, on the checks of the agent's
/// `evaluation.online`. A grader that fails is recorded as not graded, never thrown: the run has
/// ended already, and grading it must not fail anything.
public sealed partial class OnlineGrading(ModelGateway models, ModelPrices prices, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<OnlineGrading>();

    /// The run as a case of a dataset would be written: its own goal, the agent's online checks as expectations.
    public static EvalCase CaseOf(string agent, OnlineChecks checks, RunView run) => new(
        $"online:{run.RunId}",
        run.Goal ?? "",
        Input: null,
        agent,
        Approve: false,
        new CaseExpectations
        {
            Contains = checks.Contains,
            NotContains = checks.NotContains,
            Matches = checks.Matches,
            Called = checks.Called.Select(tool => new ToolExpectation(tool, Arguments: null)).ToList(),
            NotCalled = checks.NotCalled,
            MaxSteps = checks.MaxSteps,
            MaxTokens = checks.MaxTokens,
            MaxCost = checks.MaxCost,
            MaxLatency = checks.MaxLatency,
            Rubric = checks.Rubric is { } criteria ? new Rubric(criteria, checks.MinScore) : null,
        },
        MinPassRate: null,
        Line: 0);

    public async Task<IReadOnlyList<Grade>> GradeAsync(AgentDefinition agent, OnlineChecks checks, RunEvidence run, CancellationToken cancellationToken)
    {
        var @case = CaseOf(agent.Name, checks, run.Run);
        // Not the status grader: only completed runs are graded, and it would always give 1.
        Grader[] graders =
        [
            new AnswerGrader(),
            new ToolGrader(),
            new BudgetGrader(),
            new RubricGrader(models, prices, agent.Evaluation.Model ?? agent.Model, loggers.CreateLogger<RubricGrader>()),
        ];
        var evidence = new CaseEvidence(@case, run);
        var grades = new List<Grade>();
        foreach (var grader in graders.Where(g => g.Applies(@case)))
        {
            try
            {
                var result = await grader.EvaluateAsync(evidence.Messages, evidence.Response, additionalContext: [evidence], cancellationToken: cancellationToken);
                grades.AddRange(result.Metrics.Values.OfType<NumericMetric>().Select(Grade.FromMetric));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogGraderFailed(_logger, grader.Name, run.Run.RunId, e);
                grades.Add(new Grade(grader.Name, 0, false, $"The {grader.Name} grader failed: {e.Message}",
                    new Dictionary<string, string> { [Grade.NotGradedKey] = "true" }));
            }
        }

        return grades;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Grader} grader failed on run {RunId}; the grade is recorded as not given.")]
    private static partial void LogGraderFailed(ILogger logger, string grader, Guid runId, Exception exception);
}
