using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Running;
using Agentry.ServiceDefaults;
using MassTransit;

namespace Agentry.Cli.Eval;

/// Runs a case as `agentry run` does, through the real runtime on the bus (every stage in this process,
/// or a deployment's over RabbitMQ): publishes the goal, decides the calls that wait for approval as
/// the case says, follows the run to its end, then reads the run as Memory recorded it (GetRun), which
/// is what the graders read.
public sealed class BusCaseRunner(IBus bus, RunWatch watch, IRequestClient<GetRun> runs, Func<string, TimeSpan> patienceFor, bool remote) : ICaseRunner
{
    private const string Decider = "agentry eval";

    public async Task<RunEvidence> RunAsync(EvalCase @case, string agent, CancellationToken cancellationToken)
    {
        var runId = NewId.NextGuid();
        var events = watch.Follow(runId);
        var clock = Stopwatch.StartNew();
        var patience = patienceFor(agent);
        try
        {
            await bus.Publish(new GoalReceived(runId, Extensions.DefaultTenant, agent, @case.Goal, @case.Input, TriggerKind.Api), cancellationToken);
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waiting.CancelAfter(patience);
            var approvals = new ApprovalChoice(@case.Approve ? ApprovalMode.Approve : ApprovalMode.Deny, Decider,
                @case.Approve ? $"approved by the dataset's case {@case.Id}" : $"denied by the dataset's case {@case.Id} (set approve: true to approve)");
            TimeSpan? latency = null;
            try
            {
                await foreach (var message in events.ReadAllAsync(waiting.Token))
                {
                    if (message is ApprovalRequested request)
                    {
                        await RunApprovals.DecideAsync(bus, request, approvals, remote, TextWriter.Null, waiting.Token);
                        continue;
                    }

                    latency = message switch
                    {
                        RunCompleted end => end.Duration,
                        RunFailed end => end.Duration,
                        RunEscalated end => end.Duration,
                        RunCancelled end => end.Duration,
                        _ => null,
                    };
                    if (latency is not null)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await bus.Publish(new CancelRun(runId, Extensions.DefaultTenant, $"agentry eval: case {@case.Id} did not end within {patience}."), CancellationToken.None);
            }

            var view = await RecordedAsync(runId, cancellationToken);
            if (latency is null)
            {
                view = view with { Status = view.Status is null or RunStatus.Running ? RunStatus.Cancelled : view.Status, Reason = $"The run did not end within {patience}; the evaluation stopped waiting and cancelled it." };
            }

            return new RunEvidence(view, latency ?? clock.Elapsed);
        }
        finally
        {
            watch.Forget(runId);
        }
    }

    /// Memory records the end of a run from its own copy of the event, which may come a little after
    /// the one followed here: wait briefly until the record shows the end.
    private async Task<RunView> RecordedAsync(Guid runId, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var view = (await runs.GetResponse<RunView>(new GetRun(runId), cancellationToken)).Message;
            if ((view.Found && view.Status is not (null or RunStatus.Running)) || waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                return view.Found ? view : view with { Status = null, Reason = "Memory has no record of the run." };
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
