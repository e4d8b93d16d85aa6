using System.Globalization;
using Agentry.Planner.Persistence;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Planner.Deadlines;

/// Deadlines in Redis, shared by every Planner process and kept across restarts: a sorted set of
/// run ids scored by deadline (unix milliseconds), a hash of each run's tenant and one of each
/// run's trace context. A run's wall-clock deadline is its bare id (as before approvals existed,
/// so stored deadlines stay readable); its approval deadline is the id with ":approval".
public sealed class RedisRunDeadlines(IConnectionMultiplexer redis, IOptions<PlannerRedisOptions> options) : IRunDeadlines
{
    // Reads and removes the due ones in one atomic step, so of several Planners polling at once
    // exactly one gets each deadline. ARGV: now (unix ms), max. Returns id, score, tenant, traceparent
    // quadruples ('' for a missing tenant or trace context).
    private const string TakeDueScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
        local taken = {}
        for i = 1, #due, 2 do
          local id = due[i]
          local tenant = redis.call('HGET', KEYS[2], id)
          local trace = redis.call('HGET', KEYS[3], id)
          redis.call('ZREM', KEYS[1], id)
          redis.call('HDEL', KEYS[2], id)
          redis.call('HDEL', KEYS[3], id)
          taken[#taken + 1] = id
          taken[#taken + 1] = due[i + 1]
          taken[#taken + 1] = tenant or ''
          taken[#taken + 1] = trace or ''
        end
        return taken
        """;

    private readonly RedisKey _due = options.Value.DeadlinesKey;
    private readonly RedisKey _tenants = options.Value.DeadlineTenantsKey;
    private readonly RedisKey _traces = options.Value.DeadlineTracesKey;

    private IDatabase Database => redis.GetDatabase();

    public async Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken)
    {
        var member = Member(deadline.RunId, deadline.Kind);
        var transaction = Database.CreateTransaction();
        var tenant = transaction.HashSetAsync(_tenants, member, deadline.TenantId);
        // A deadline set again without a trace context must not keep the old one.
        Task trace = deadline.TraceParent is { } traceParent
            ? transaction.HashSetAsync(_traces, member, traceParent)
            : transaction.HashDeleteAsync(_traces, member);
        var due = transaction.SortedSetAddAsync(_due, member, deadline.Deadline.ToUnixTimeMilliseconds());
        await transaction.ExecuteAsync();
        await Task.WhenAll(tenant, trace, due);
    }

    public async Task RemoveAsync(Guid runId, DeadlineKind kind, CancellationToken cancellationToken)
    {
        var member = Member(runId, kind);
        var transaction = Database.CreateTransaction();
        var due = transaction.SortedSetRemoveAsync(_due, member);
        var tenant = transaction.HashDeleteAsync(_tenants, member);
        var trace = transaction.HashDeleteAsync(_traces, member);
        await transaction.ExecuteAsync();
        await Task.WhenAll(due, tenant, trace);
    }

    // Not cancellable on purpose: a claim abandoned after Redis ran it would lose its deadlines.
    public async Task<IReadOnlyList<RunDeadline>> TakeDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await Database.ScriptEvaluateAsync(
            TakeDueScript,
            [_due, _tenants, _traces],
            [now.ToUnixTimeMilliseconds(), max]))!;
        var taken = new List<RunDeadline>(result.Length / 4);
        for (var i = 0; i + 3 < result.Length; i += 4)
        {
            var score = double.Parse((string)result[i + 1]!, NumberStyles.Float, CultureInfo.InvariantCulture);
            var trace = (string)result[i + 3]!;
            var member = (string)result[i]!;
            var kind = member.EndsWith(ApprovalSuffix, StringComparison.Ordinal) ? DeadlineKind.Approval : DeadlineKind.Run;
            taken.Add(new RunDeadline(
                Guid.Parse(kind == DeadlineKind.Run ? member : member[..^ApprovalSuffix.Length]),
                (string)result[i + 2]!,
                DateTimeOffset.FromUnixTimeMilliseconds((long)score),
                trace.Length == 0 ? null : trace,
                kind));
        }

        return taken;
    }

    private const string ApprovalSuffix = ":approval";

    private static RedisValue Member(Guid runId, DeadlineKind kind) =>
        kind == DeadlineKind.Run ? runId.ToString("D") : runId.ToString("D") + ApprovalSuffix;
}
