using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers.Schedules;

/// Fires the agents' schedules (docs/triggers.md#schedules). Every Gateway replica runs one; they
/// share the store. Each poll walks each schedule's due times from its watermark (the last one
/// handled) up to now, in order, and handles each exactly once across the replicas:
/// - on time (no later than Triggers:Schedules:MisfireGrace): claimed, its run published, recorded;
/// - later than that (no process ran while it passed): the misfire policy: skip records it as
///   missed; run-once fires the latest of them once and records the others as missed;
/// - while the schedule is paused: recorded as skipped.
/// Whoever claims a due time first handles it; a replica that finds it handled reads the
/// watermark again and goes on from there, and one that finds it held by another replica leaves
/// the schedule for this poll, so that due times are handled in order. The run id is named by the
/// due time, so even a due time published twice (a replica that died after publishing, before
/// recording) starts one run.
public sealed partial class Scheduler(
    AgentCatalog agents,
    TriggeredRuns runs,
    IScheduleStore store,
    IBus bus,
    TimeProvider clock,
    IOptions<ScheduleOptions> options,
    ILogger<Scheduler> logger)
{
    /// Due times handled apart up to this many in a row; more (a long downtime of a frequent
    /// schedule) become one entry with their count.
    internal const int SeparateEntries = 10;

    /// At most this many due times are walked per schedule and poll; the rest wait for the next poll.
    private const int MaxPerPoll = 10_000;

    /// Who claims, in the store: this process and this scheduler.
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// Every schedule trigger of every agent.
    public IReadOnlyList<(AgentDefinition Agent, ScheduleTrigger Trigger)> Schedules { get; } =
        [.. agents.All.SelectMany(a => a.Triggers.OfType<ScheduleTrigger>().Select(t => (a, t)))];

    /// One poll of every schedule. A schedule whose poll fails (the store away) is logged and
    /// tried again at the next poll; the others go on.
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        foreach (var (agent, trigger) in Schedules)
        {
            try
            {
                await PollAsync(agent.Name, trigger, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogPollFailed(logger, agent.Name, trigger.Name, e);
            }
        }
    }

    private async Task PollAsync(string agent, ScheduleTrigger trigger, CancellationToken cancellationToken)
    {
        var id = new ScheduleId(agent, trigger.Name);
        var now = clock.GetUtcNow();
        // A schedule seen for the first time starts now: what was due before it existed is not missed.
        var state = await store.GetAsync(id, cancellationToken) ?? await store.StartAsync(id, now, cancellationToken);
        // Bounded: each round either handles a due time or reads a watermark another replica moved.
        for (var round = 0; round < 100; round++)
        {
            var handled = await HandleDueAsync(id, trigger, state, now, cancellationToken);
            if (handled != ClaimOutcome.Done)
            {
                return;
            }

            state = await store.GetAsync(id, cancellationToken) ?? state;
        }
    }

    /// Handles the due times after the watermark; Done when another replica had handled one of
    /// them, so that the caller reads the watermark again.
    private async Task<ClaimOutcome> HandleDueAsync(ScheduleId id, ScheduleTrigger trigger, ScheduleState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var grace = options.Value.MisfireGrace;
        var late = new List<DateTimeOffset>();
        var onTime = new List<DateTimeOffset>();
        var cursor = state.Watermark;
        while (late.Count + onTime.Count < MaxPerPoll && trigger.NextAfter(cursor) is { } due && due <= now)
        {
            (now - due > grace ? late : onTime).Add(due);
            cursor = due;
        }

        var walkedAll = late.Count + onTime.Count < MaxPerPoll;
        if (state.Paused)
        {
            return await RecordAsync(id, ScheduleEntryKind.Skipped, [.. late, .. onTime], "the schedule was paused", now, cancellationToken);
        }

        if (late.Count > 0)
        {
            // Run-once fires the latest missed due time, which is only known once the walk reached now.
            var catchUp = trigger.Misfire == MisfirePolicy.RunOnce && walkedAll;
            var missed = catchUp ? late[..^1] : late;
            var recorded = await RecordAsync(id, ScheduleEntryKind.Missed, missed, $"no Gateway fired it within {Describe(grace)} of its time", now, cancellationToken);
            if (recorded != ClaimOutcome.Claimed)
            {
                return recorded;
            }

            if (catchUp && await FireAsync(id, trigger, late[^1], missed.Count, cancellationToken) is var fired and not ClaimOutcome.Claimed)
            {
                return fired;
            }
        }

        foreach (var due in onTime)
        {
            if (await FireAsync(id, trigger, due, missedBefore: null, cancellationToken) is var fired and not ClaimOutcome.Claimed)
            {
                return fired;
            }
        }

        return ClaimOutcome.Claimed;
    }

    /// Records due times that start no run: each apart when they are few, else as one entry.
    private async Task<ClaimOutcome> RecordAsync(ScheduleId id, ScheduleEntryKind kind, IReadOnlyList<DateTimeOffset> due, string why, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entries = due.Count <= SeparateEntries
            ? due.Select(d => new ScheduleEntry(kind, d, now, Detail: why)).ToList()
            : [new ScheduleEntry(kind, due[0], now, due.Count, due[^1], Detail: why)];
        foreach (var entry in entries)
        {
            var outcome = await store.RecordAsync(id, entry.Due, entry, now, cancellationToken);
            if (outcome != ClaimOutcome.Claimed)
            {
                return outcome;
            }

            var reason = kind == ScheduleEntryKind.Skipped ? AgentryTelemetry.ScheduleReasons.Paused : AgentryTelemetry.ScheduleReasons.Downtime;
            AgentryTelemetry.ScheduleMissed.Add(entry.Count, Tags(id, reason));
            LogRecorded(logger, id.Agent, id.Trigger, entry.Count, kind.ToString().ToLowerInvariant(), ScheduleFiring.Of(entry.Due), why);
        }

        return ClaimOutcome.Claimed;
    }

    /// Claims the due time, publishes its run and records it. missedBefore: for a run-once catch-up,
    /// how many missed due times it stands for.
    private async Task<ClaimOutcome> FireAsync(ScheduleId id, ScheduleTrigger trigger, DateTimeOffset due, int? missedBefore, CancellationToken cancellationToken)
    {
        var lease = options.Value.ClaimLease;
        var claimed = await store.ClaimAsync(id, due, Owner, clock.GetUtcNow(), lease, cancellationToken);
        if (claimed != ClaimOutcome.Claimed)
        {
            return claimed;
        }

        var firing = ScheduleFiring.Of(due);
        var origin = new TriggerOrigin(trigger.Name, trigger.Source, DueAt: due);
        var prepared = runs.Prepare(id.Agent, trigger, Document(id, trigger, due, missedBefore), origin, firing);
        if (prepared.Goal is not { } goal)
        {
            // A goal template or a validation that refuses this due time refuses it every time: recorded, not retried.
            var refused = new ScheduleEntry(ScheduleEntryKind.Refused, due, clock.GetUtcNow(), Detail: prepared.Refusal);
            var outcome = await store.CompleteAsync(id, due, Owner, refused, clock.GetUtcNow(), cancellationToken);
            AgentryTelemetry.ScheduleMissed.Add(1, Tags(id, AgentryTelemetry.ScheduleReasons.Refused));
            LogRefused(logger, id.Agent, id.Trigger, firing, prepared.Refusal ?? "");
            return outcome == ClaimOutcome.Held ? ClaimOutcome.Held : ClaimOutcome.Claimed;
        }

        try
        {
            using var span = TriggeredRuns.StartSpan(id.Agent, trigger, origin);
            // Within the lease: a publish that hangs longer would let another replica publish too.
            using var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            publishing.CancelAfter(lease / 2);
            await bus.Publish(goal, publishing.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Not published: the next poll (of any replica) tries this due time again.
            await store.ReleaseAsync(id, due, Owner, CancellationToken.None);
            LogPublishFailed(logger, id.Agent, id.Trigger, firing, e);
            return ClaimOutcome.Held;
        }

        var entry = new ScheduleEntry(ScheduleEntryKind.Fired, due, clock.GetUtcNow(), RunId: goal.RunId, CatchUp: missedBefore is not null,
            Detail: missedBefore is { } missed ? $"run once to catch up after downtime ({missed} earlier due time{(missed == 1 ? "" : "s")} missed)" : null);
        // Not cancellable: the run is published, and its record must not be abandoned halfway.
        var completed = await store.CompleteAsync(id, due, Owner, entry, clock.GetUtcNow(), CancellationToken.None);
        if (completed == ClaimOutcome.Claimed)
        {
            AgentryTelemetry.ScheduleFires.Add(1, Tags(id, missedBefore is null ? AgentryTelemetry.ScheduleReasons.OnTime : AgentryTelemetry.ScheduleReasons.CatchUp));
            LogFired(logger, id.Agent, id.Trigger, firing, goal.RunId);
            return ClaimOutcome.Claimed;
        }

        // This replica's lease ran out while it published and another took the due time over; the
        // run id is the same, so the saga starts one run, and the other replica records it.
        LogTakenOver(logger, id.Agent, id.Trigger, firing);
        return completed;
    }

    /// The document a schedule's goal and input templates read (docs/triggers.md#schedules).
    public static JsonElement Document(ScheduleId id, ScheduleTrigger trigger, DateTimeOffset due, int? missedBefore = null)
    {
        var local = TimeZoneInfo.ConvertTime(due, trigger.TimeZone);
        return JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["due"] = local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            ["due_utc"] = ScheduleFiring.Of(due),
            ["date"] = local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["time"] = local.ToString("HH:mm", CultureInfo.InvariantCulture),
            ["weekday"] = local.DayOfWeek.ToString(),
            ["time_zone"] = trigger.TimeZone.Id,
            ["trigger"] = trigger.Name,
            ["agent"] = id.Agent,
            ["catch_up"] = missedBefore is not null,
            ["missed"] = missedBefore ?? 0,
        });
    }

    private static string Describe(TimeSpan grace) =>
        grace.TotalSeconds < 120 ? $"{grace.TotalSeconds:0.#} s" : $"{grace.TotalMinutes:0.#} min";

    private static TagList Tags(ScheduleId id, string reason) => new()
    {
        { AgentryTelemetry.Tags.Agent, id.Agent },
        { AgentryTelemetry.Tags.TriggerName, id.Trigger },
        { AgentryTelemetry.Tags.ScheduleReason, reason },
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Agent}/{Trigger} fired for {Due}: run {RunId}.")]
    private static partial void LogFired(ILogger logger, string agent, string trigger, string due, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Agent}/{Trigger}: {Count} due time(s) from {Due} {Kind}: {Why}.")]
    private static partial void LogRecorded(ILogger logger, string agent, string trigger, int count, string kind, string due, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Agent}/{Trigger} could not start a run for {Due}, recorded as refused and not retried: {Refusal}")]
    private static partial void LogRefused(ILogger logger, string agent, string trigger, string due, string refusal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Agent}/{Trigger}: the run for {Due} could not be published; the next poll tries again.")]
    private static partial void LogPublishFailed(ILogger logger, string agent, string trigger, string due, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Agent}/{Trigger}: another Gateway took {Due} over while this one published it; the run id is the same, so one run starts.")]
    private static partial void LogTakenOver(ILogger logger, string agent, string trigger, string due);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {Agent}/{Trigger}: this poll failed; the next one tries again.")]
    private static partial void LogPollFailed(ILogger logger, string agent, string trigger, Exception exception);
}
