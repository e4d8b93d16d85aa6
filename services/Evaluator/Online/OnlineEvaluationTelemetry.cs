using Agentry.Contracts;
using Agentry.Evaluation.Online;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Evaluator.Online;

/// The online evaluation's metrics: each grade and the run's score, the grades not given, the drops.
internal static class OnlineEvaluationTelemetry
{
    /// The grader tag of a run's own score, the mean of its grades.
    public const string RunScore = "run";

    public static void Graded(OnlineRunGrades run)
    {
        var agent = new KeyValuePair<string, object?>(Tags.Agent, run.Agent);
        foreach (var grade in run.Grades)
        {
            var grader = new KeyValuePair<string, object?>(Tags.Grader, grade.Grader);
            if (grade.NotGraded)
            {
                OnlineNotGraded.Add(1, agent, grader);
            }
            else
            {
                OnlineScore.Record(grade.Score, agent, grader);
            }
        }

        if (run.Score is { } score)
        {
            OnlineScore.Record(score, agent, new KeyValuePair<string, object?>(Tags.Grader, RunScore));
        }
    }

    public static void Dropped(OnlineScoreDropped drop) =>
        OnlineDrops.Add(1, new KeyValuePair<string, object?>(Tags.Agent, drop.Agent));
}
