using System.ComponentModel.DataAnnotations;

namespace Agentry.Planner.Persistence;

/// Where the Planner keeps runs, deadlines and tenants' running runs in Redis, when the connection string `redis` is set.
public sealed class PlannerRedisOptions
{
    public const string Section = "Planner:Redis";

    /// Starts every key the Planner writes, so that several deployments (or test runs) can share one Redis.
    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = "agentry:";

    /// How long a finished run stays readable and keeps deduplicating a late GoalReceived (decision 0005).
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan FinishedRunRetention { get; set; } = TimeSpan.FromDays(7);

    public string RunKeyPrefix => KeyPrefix + "saga:agentrun:";

    // One hash tag for the deadline keys: the claiming script touches them all, and on a Redis
    // cluster a script's keys must live in one slot.
    public string DeadlinesKey => KeyPrefix + "{deadlines}:due";

    public string DeadlineTenantsKey => KeyPrefix + "{deadlines}:tenant";

    public string DeadlineTracesKey => KeyPrefix + "{deadlines}:traceparent";

    public string TenantRunsKey(string tenant) => KeyPrefix + "tenant-runs:" + tenant;
}
