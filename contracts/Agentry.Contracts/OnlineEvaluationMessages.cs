namespace Agentry.Contracts;

/// <summary>The Evaluator graded a completed run that its agent's online evaluation sampled; Memory
/// keeps the grades with the run (RunView.OnlineEvaluation). A redelivered RunCompleted publishes it
/// again with the grades first stored, so it may arrive twice: Memory keeps the first.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent.</param>
/// <param name="GradedAt">When the Evaluator graded it.</param>
/// <param name="Score">The mean of the grades given, from 0 to 1; null when no grader could grade.</param>
/// <param name="Grades">Each grader's verdict.</param>
/// <param name="Sequence">The run's place among the agent's scored runs (1, 2, ...), which the drop
/// alert's windows follow; 0 for a run without a score.</param>
public sealed record RunGraded(
    Guid RunId,
    string TenantId,
    string Agent,
    DateTimeOffset GradedAt,
    double? Score,
    IReadOnlyList<OnlineGrade> Grades,
    long Sequence);

/// <summary>One grader's verdict on a run graded online.</summary>
/// <param name="Grader">The grader: answer, tools, budget or rubric.</param>
/// <param name="Score">The share of its checks that held, from 0 to 1 (0 when it could not grade).</param>
/// <param name="Passed">Whether every check held.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="NotGraded">The grader could not grade (the judge could not be asked, the grader failed):
/// its score says nothing of the run and is left out of the run's score.</param>
public sealed record OnlineGrade(string Grader, double Score, bool Passed, string Reason, bool NotGraded = false);

/// <summary>A run's online grades, as Memory keeps them with the run.</summary>
/// <param name="Score">The mean of the grades given, from 0 to 1; null when no grader could grade.</param>
/// <param name="Grades">Each grader's verdict.</param>
/// <param name="GradedAt">When the Evaluator graded the run.</param>
/// <param name="Sequence">The run's place among the agent's scored runs; 0 for a run without a score.</param>
public sealed record OnlineEvaluationView(double? Score, IReadOnlyList<OnlineGrade> Grades, DateTimeOffset GradedAt, long Sequence);
