using System.ComponentModel.DataAnnotations;

namespace Agentry.Gateway.Triggers.Schedules;

/// Triggers:Schedules: how the Gateway fires the agents' schedules (docs/triggers.md#schedules).
public sealed class ScheduleOptions : IValidatableObject
{
    public const string Section = "Triggers:Schedules";

    /// False: this Gateway fires no schedules (another replica, or a dedicated one, does).
    public bool Enabled { get; set; } = true;

    /// How often each schedule is looked at; a due time fires within about this much of its time.
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// How late a due time may be handled and still count as on time. Later than this it is a
    /// misfire (the Gateway was down, or every replica was): the schedule's misfire policy decides.
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MisfireGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// How long a replica holds a due time while it publishes the run. A replica that dies holding
    /// one is replaced by another after this long (the run id is the same, so a run published twice
    /// still starts once).
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// How long a handled due time's claim is kept, so that a replica that lags behind never handles it again.
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan ClaimRetention { get; set; } = TimeSpan.FromDays(2);

    /// How many history entries (fired, missed, skipped, refused) are kept per schedule.
    [Range(1, 10_000)]
    public int HistoryLimit { get; set; } = 200;

    /// Starts every Redis key the schedules write, so that deployments (or test runs) can share one Redis.
    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = "agentry:";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A due time handled at the next poll must not already count as missed.
        if (MisfireGrace < PollInterval)
        {
            yield return new ValidationResult(
                $"{Section}:MisfireGrace ({MisfireGrace}) is shorter than {Section}:PollInterval ({PollInterval}): every due time would count as missed. Make the grace at least one poll interval.",
                [nameof(MisfireGrace)]);
        }

        if (ClaimLease < PollInterval)
        {
            yield return new ValidationResult(
                $"{Section}:ClaimLease ({ClaimLease}) is shorter than {Section}:PollInterval ({PollInterval}); make it several poll intervals, so that a replica publishing a run keeps its claim.",
                [nameof(ClaimLease)]);
        }
    }
}
