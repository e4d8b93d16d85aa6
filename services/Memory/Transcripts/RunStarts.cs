using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Payloads;
using Microsoft.Extensions.Options;

namespace Agentry.Memory;

/// The one place a run's start is recorded. Memory learns it from two messages that travel on two
/// queues and arrive in either order: GoalReceived, which every run has (even one the saga refuses
/// at once), and the first ContextRequested, which the saga sends after its own copy of the goal.
/// The first context must not be answered before the start is recorded, because what follows it
/// reads the start: the remember tool asks the run for its user, the extraction of memories at
/// the end of a run reads that user too, and pending approvals are listed for running runs only,
/// while Memory's copy of GoalReceived may still be waiting on the transcript's queue.
/// So both messages ask for the start, and it is written only when the run has none yet (no goal:
/// unknown, or known only from events that came first, such as its end). One message after the
/// other writes it once, and a redelivery writes nothing. Two processed at the same moment may
/// both write; the write keeps whatever was recorded first (ITranscriptStore.StartRunAsync
/// fills only what is still empty), so the record is the same in every order.
/// A goal the saga refuses for its size is not recorded (the saga's RunFailed records the run and
/// why); a tenant the publisher left out gets the saga's default (Extensions.TenantOf).
public sealed class RunStarts(ITranscriptStore store, IOptions<GoalBounds> bounds, TimeProvider clock, PayloadStore payloads)
{
    public async Task RecordAsync(GoalReceived goal, CancellationToken cancellationToken)
    {
        if (GoalValidation.SizeProblem(goal.Goal, goal.Input, bounds.Value) is not null)
        {
            return;
        }

        var run = await store.GetAsync(goal.RunId, cancellationToken);
        await RecordAsync(run, new RunStart(goal.RunId, Extensions.TenantOf(goal.TenantId), goal.Agent, goal.Goal, goal.Input?.GetRawText(), clock.GetUtcNow(), goal.UserId)
        {
            Trigger = goal.Trigger,
            Origin = goal.Origin,
            Lineage = goal.Lineage,
        }, cancellationToken);
    }

    /// The first ContextRequested carries the goal as the saga received it; run is the run as the
    /// context is about to read it, so that no second read is needed.
    /// An input the saga kept out of line is read back only when this message records the start.
    public async Task RecordAsync(ContextRequested request, RunView run, CancellationToken cancellationToken)
    {
        if (run.Goal is not null)
        {
            return;
        }

        var input = request.Input?.GetRawText()
            ?? (request.InputRef is { } reference ? await payloads.ReadTextAsync(reference, null, cancellationToken) : null);
        await RecordAsync(run, new RunStart(request.RunId, request.TenantId, request.Agent, request.Goal, input, clock.GetUtcNow(), request.UserId)
        {
            Trigger = request.Trigger,
            Origin = request.Origin,
            Lineage = request.Lineage,
        }, cancellationToken);
    }

    private Task RecordAsync(RunView run, RunStart start, CancellationToken cancellationToken) =>
        run.Goal is not null ? Task.CompletedTask : store.StartRunAsync(start, cancellationToken);
}
