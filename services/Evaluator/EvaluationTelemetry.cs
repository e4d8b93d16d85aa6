using System.Diagnostics;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Evaluator;

/// The span and stage time of judging one step.
internal sealed class EvaluationTelemetry(Activity? span) : IDisposable
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public static EvaluationTelemetry Start(Guid runId, int step) => new(StartStage("evaluate", Stages.Evaluate, runId, step));

    public GoalEvaluated Judged(GoalEvaluated verdict)
    {
        span?.SetTag(Tags.Verdict, verdict.Verdict.ToString());
        return verdict;
    }

    public void Dispose()
    {
        RecordStage(Stages.Evaluate, _started);
        span?.Dispose();
    }
}
