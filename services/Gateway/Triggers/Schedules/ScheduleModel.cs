using System.Globalization;
using System.Text.Json.Serialization;

namespace Agentry.Gateway.Triggers.Schedules;

/// One schedule: a schedule trigger of an agent.
public readonly record struct ScheduleId(string Agent, string Trigger)
{
    public override string ToString() => $"{Agent}/{Trigger}";
}

/// What became of a due time (or of a run of them: Count and Until).
[JsonConverter(typeof(JsonStringEnumConverter<ScheduleEntryKind>))]
public enum ScheduleEntryKind
{
    /// A run was started for it (RunId).
    Fired,
    /// No process handled it in time (downtime longer than the misfire grace) and the misfire policy did not run it.
    Missed,
    /// The schedule was paused at the time.
    Skipped,
    /// The run could not be started (the goal template or the run's validation refused it, Detail says why); not retried.
    Refused,
}

/// A history entry of a schedule. Due: the due time (the first of the run when Count > 1, then
/// Until is the last); At: when it was handled; CatchUp: a fire the run-once misfire policy made
/// for due times missed during downtime.
public sealed record ScheduleEntry(
    ScheduleEntryKind Kind,
    DateTimeOffset Due,
    DateTimeOffset At,
    int Count = 1,
    DateTimeOffset? Until = null,
    Guid? RunId = null,
    bool CatchUp = false,
    string? Detail = null)
{
    /// The last due time the entry covers.
    [JsonIgnore]
    public DateTimeOffset Last => Until ?? Due;
}

/// A schedule's durable state. Watermark: every due time up to it has been handled (fired,
/// recorded as missed, skipped or refused); the next one to handle is the first after it.
public sealed record ScheduleState(
    DateTimeOffset Watermark,
    bool Paused,
    DateTimeOffset? PausedAt,
    string? PausedBy,
    long Fired,
    long Missed,
    long Skipped,
    long Refused,
    ScheduleEntry? LastFired);

/// What a claim on a due time found.
public enum ClaimOutcome
{
    /// This replica holds it now (or has recorded it, for a record).
    Claimed,
    /// Another replica holds it and is publishing its run.
    Held,
    /// It was handled already.
    Done,
}

public static class ScheduleFiring
{
    /// The firing a due time names in run ids (TriggeredRuns.RunIdOf): its UTC instant, to the second.
    public static string Of(DateTimeOffset due) =>
        due.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
