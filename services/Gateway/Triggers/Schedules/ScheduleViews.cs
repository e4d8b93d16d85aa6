using Agentry.Agents.Triggers;

namespace Agentry.Gateway.Triggers.Schedules;

/// A due time in UTC and in the schedule's zone.
public sealed record ScheduleFireTime(DateTimeOffset Utc, DateTimeOffset Local);

/// A schedule as GET /schedules shows it. HandledUntil: every due time up to it was handled
/// (null before the first poll of any Gateway).
public sealed record ScheduleView(
    string Agent,
    string Trigger,
    string Cron,
    string TimeZone,
    string Misfire,
    string TenantId,
    bool Paused,
    DateTimeOffset? PausedAt,
    string? PausedBy,
    IReadOnlyList<ScheduleFireTime> NextFires,
    ScheduleEntry? LastFired,
    long Fired,
    long Missed,
    long Skipped,
    long Refused,
    DateTimeOffset? HandledUntil);

public sealed record ScheduleList(IReadOnlyList<ScheduleView> Schedules);

/// A schedule's history, newest first.
public sealed record ScheduleHistory(string Agent, string Trigger, IReadOnlyList<ScheduleEntry> Entries);

public sealed record SchedulePauseResponse(string Agent, string Trigger, bool Paused, bool Changed);

public static class ScheduleTimes
{
    /// The next `count` due times after `after`, in UTC and in the schedule's zone.
    public static IReadOnlyList<ScheduleFireTime> Next(ScheduleTrigger trigger, DateTimeOffset after, int count = 3)
    {
        var times = new List<ScheduleFireTime>(count);
        var cursor = after;
        while (times.Count < count && trigger.NextAfter(cursor) is { } next)
        {
            times.Add(new ScheduleFireTime(next, TimeZoneInfo.ConvertTime(next, trigger.TimeZone)));
            cursor = next;
        }

        return times;
    }

    /// "at" the way a person in the schedule's zone reads it, with UTC beside it.
    public static string Describe(ScheduleFireTime time) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{time.Local:yyyy-MM-dd HH:mm:ss zzz} ({time.Utc.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");

    public static string Name(MisfirePolicy policy) => policy == MisfirePolicy.RunOnce ? "run-once" : "skip";
}
