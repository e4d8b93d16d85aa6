using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Online;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.Evaluator.Online;

/// Online evaluation: grades the share of an agent's completed runs its `evaluation.online.sample`
/// asks for, with the graders `agentry eval` uses, reading the run as Memory recorded it; stores the
/// grades per run, records them as metrics, publishes them as RunGraded (Memory keeps them with the
/// run), and when a window of scores drops, publishes
/// OnlineScoreDropped for the Notifier. The run has ended: nothing here can change or fail it.
public sealed partial class OnlineEvaluationConsumer(
    PinnedAgents agents,
    OnlineGrading grading,
    IOnlineGradeStore store,
    IClientFactory clients,
    TimeProvider time,
    ILogger<OnlineEvaluationConsumer> logger) : IConsumer<RunCompleted>
{
    /// Retries Memory's record may lag for (the bus's last retry, some 2.6 s after the first try);
    /// after them the run is left ungraded rather than graded on half a record.
    private const int RecordAttempts = 6;

    public async Task Consume(ConsumeContext<RunCompleted> context)
    {
        var completed = context.Message;
        if (await agents.FindAsync(completed.Agent, completed.AgentHash, context.CancellationToken) is not { Evaluation.Online: { } online } agent || !OnlineSampling.IsSampled(completed.RunId, online.Sample))
        {
            return;
        }

        var (stored, isNew) = await store.GetAsync(completed.RunId, context.CancellationToken) is { } before
            ? (before, false)
            : await GradeAndRecordAsync(context, agent, online.Checks);
        if (stored is null)
        {
            return;
        }

        if (isNew)
        {
            OnlineEvaluationTelemetry.Graded(stored);
            LogGraded(logger, stored.RunId, stored.Agent, stored.Score, stored.Sequence);
        }

        // Published again on a redelivery, for the same reason as the alert below; Memory keeps the first.
        await context.Publish(RunGradedOf(stored), context.CancellationToken);

        // Checked again on a redelivery: a copy that stored the grades and stopped before publishing
        // leaves the alert to this one. The Notifier delivers a drop once, whoever publishes it twice.
        if (online.Alert is { } alert && await OnlineWindows.DropAsync(store, stored, alert, context.CancellationToken) is { } drop)
        {
            if (isNew)
            {
                OnlineEvaluationTelemetry.Dropped(drop);
                LogDropped(logger, drop.Agent, drop.WindowEnd, drop.BaselineMean, drop.WindowMean);
            }

            await context.Publish(drop, context.CancellationToken);
        }
    }

    private async Task<(OnlineRunGrades? Stored, bool IsNew)> GradeAndRecordAsync(ConsumeContext<RunCompleted> context, AgentDefinition agent, Agentry.Agents.Evaluation.OnlineChecks checks)
    {
        var completed = context.Message;
        var memory = clients.CreateRequestClient<GetRun>(context, RequestTimeout.After(s: 10));
        var run = (await memory.GetResponse<RunView>(new GetRun(completed.RunId), context.CancellationToken)).Message;
        if (run is not { Found: true, Status: RunStatus.Completed })
        {
            if (context.GetRetryAttempt() < RecordAttempts)
            {
                throw new RunRecordBehindException($"Memory has not recorded the end of run {completed.RunId} yet; online evaluation waits for it.");
            }

            LogNoRecord(logger, completed.RunId, completed.Agent);
            return (null, false);
        }

        var grades = await grading.GradeAsync(agent, checks, new RunEvidence(run, completed.Duration), context.CancellationToken);
        return await store.RecordAsync(
            new OnlineRunGrades(completed.RunId, completed.Agent, completed.TenantId, time.GetUtcNow(), OnlineRunGrades.ScoreOf(grades), grades),
            context.CancellationToken);
    }

    private static RunGraded RunGradedOf(OnlineRunGrades stored) => new(
        stored.RunId, stored.TenantId, stored.Agent, stored.GradedAt, stored.Score,
        [.. stored.Grades.Select(g => new OnlineGrade(g.Grader, g.Score, g.Passed, g.Reason, g.NotGraded))], stored.Sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of agent {Agent} graded online: score {Score} (scored run {Sequence}).")]
    private static partial void LogGraded(ILogger logger, Guid runId, string agent, double? score, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Online scores of agent {Agent} dropped: the window ending at scored run {WindowEnd} has a mean of {WindowMean:0.###}, the window before {BaselineMean:0.###}.")]
    private static partial void LogDropped(ILogger logger, string agent, long windowEnd, double baselineMean, double windowMean);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} of agent {Agent} was sampled for online evaluation, but Memory holds no completed record of it; it is not graded.")]
    private static partial void LogNoRecord(ILogger logger, Guid runId, string agent);
}

/// Memory has not caught up with the end of the run yet; the retry asks again.
public sealed class RunRecordBehindException(string message) : Exception(message);
