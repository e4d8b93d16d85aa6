using System.Globalization;
using Agentry.Planner.Persistence;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Planner.Deadlines;

/// Deadlines in Redis, shared by every Planner process and kept across restarts: a sorted set of
/// run ids scored by deadline (unix milliseconds) and a hash of each run's tenant.
public sealed class RedisRunDeadlines(IConnectionMultiplexer redis, IOptions<PlannerRedisOptions> options) : IRunDeadlines
{
    // Reads and removes the due ones in one atomic step, so of several Planners polling at once
    // exactly one gets each deadline. ARGV: now (unix ms), max. Returns id, score, tenant triples.
    private const string TakeDueScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
        local taken = {}
        for i = 1, #due, 2 do
          local id = due[i]
          local tenant = redis.call('HGET', KEYS[2], id)
          redis.call('ZREM', KEYS[1], id)
          redis.call('HDEL', KEYS[2], id)
          taken[#taken + 1] = id
          taken[#taken + 1] = due[i + 1]
          taken[#taken + 1] = tenant or ''
        end
        return taken
        """;

    private readonly RedisKey _due = options.Value.DeadlinesKey;
    private readonly RedisKey _tenants = options.Value.DeadlineTenantsKey;

    private IDatabase Database => redis.GetDatabase();

    public async Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken)
    {
        var member = Member(deadline.RunId);
        var transaction = Database.CreateTransaction();
        var tenant = transaction.HashSetAsync(_tenants, member, deadline.TenantId);
        var due = transaction.SortedSetAddAsync(_due, member, deadline.Deadline.ToUnixTimeMilliseconds());
        await transaction.ExecuteAsync();
        await Task.WhenAll(tenant, due);
    }

    public async Task RemoveAsync(Guid runId, CancellationToken cancellationToken)
    {
        var member = Member(runId);
        var transaction = Database.CreateTransaction();
        var due = transaction.SortedSetRemoveAsync(_due, member);
        var tenant = transaction.HashDeleteAsync(_tenants, member);
        await transaction.ExecuteAsync();
        await Task.WhenAll(due, tenant);
    }

    // Not cancellable on purpose: a claim abandoned after Redis ran it would lose its deadlines.
    public async Task<IReadOnlyList<RunDeadline>> TakeDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await Database.ScriptEvaluateAsync(
            TakeDueScript,
            [_due, _tenants],
            [now.ToUnixTimeMilliseconds(), max]))!;
        var taken = new List<RunDeadline>(result.Length / 3);
        for (var i = 0; i + 2 < result.Length; i += 3)
        {
            var score = double.Parse((string)result[i + 1]!, NumberStyles.Float, CultureInfo.InvariantCulture);
            taken.Add(new RunDeadline(
                Guid.Parse((string)result[i]!),
                (string)result[i + 2]!,
                DateTimeOffset.FromUnixTimeMilliseconds((long)score)));
        }

        return taken;
    }

    private static RedisValue Member(Guid runId) => runId.ToString("D");
}
