namespace Agentry.Gateway.Triggers.Schedules;

/// The schedules' durable state, shared by every Gateway replica: Redis in a deployment, the SQLite
/// file embedded. Each due time is claimed by one replica, and each handled due time is recorded
/// (history, counters and the watermark) in the same atomic step that marks its claim done, so
/// that no due time is handled twice, however many replicas poll at once.
public interface IScheduleStore
{
    Task<ScheduleState?> GetAsync(ScheduleId id, CancellationToken cancellationToken);

    /// The state, created with the watermark at `from` when the schedule has none (its first start:
    /// nothing before it is due).
    Task<ScheduleState> StartAsync(ScheduleId id, DateTimeOffset from, CancellationToken cancellationToken);

    /// Claims the due time for `owner` until `now + lease`. Held: another owner's lease has not run out.
    Task<ClaimOutcome> ClaimAsync(ScheduleId id, DateTimeOffset due, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken);

    /// Marks the owner's claim done and records the entry. Done: another replica handled it (this
    /// owner's lease ran out and it was taken over); nothing is recorded then.
    Task<ClaimOutcome> CompleteAsync(ScheduleId id, DateTimeOffset due, string owner, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken);

    /// Claims and completes at once, for a due time that starts no run (missed, skipped): Claimed
    /// when this call recorded it.
    Task<ClaimOutcome> RecordAsync(ScheduleId id, DateTimeOffset due, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken);

    /// Gives up the owner's claim, so that the next poll tries the due time again.
    Task ReleaseAsync(ScheduleId id, DateTimeOffset due, string owner, CancellationToken cancellationToken);

    /// Pauses or resumes; false when it already was. A schedule that has no state yet gets one from `at`.
    Task<bool> SetPausedAsync(ScheduleId id, bool paused, DateTimeOffset at, string by, CancellationToken cancellationToken);

    /// The newest entries first.
    Task<IReadOnlyList<ScheduleEntry>> HistoryAsync(ScheduleId id, int limit, CancellationToken cancellationToken);
}
