using Agentry.Evaluation.Grading;

namespace Agentry.Evaluation.Online;

/// One sampled run's online grades. Score is the mean of the grades that could be given (a grader
/// that failed to grade, such as a judge that could not be asked, is left out); null when none could.
/// Sequence is the run's place among the agent's scored runs (1, 2, ...), given by the store when it
/// is first recorded; 0 for a run without a score, which takes no place in any window.
public sealed record OnlineRunGrades(Guid RunId, string Agent, string TenantId, DateTimeOffset GradedAt, double? Score, IReadOnlyList<Grade> Grades, long Sequence = 0)
{
    public static double? ScoreOf(IReadOnlyList<Grade> grades)
    {
        var given = grades.Where(g => !g.NotGraded).ToList();
        return given.Count == 0 ? null : given.Average(g => g.Score);
    }
}
