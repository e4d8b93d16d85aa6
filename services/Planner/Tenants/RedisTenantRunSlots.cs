using Agentry.Planner.Persistence;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Planner.Tenants;

/// Tenants' slots in Redis, shared by every Planner: per tenant, a sorted set of run ids scored by
/// the time each slot is held until (unix milliseconds, by the Planners' clock, as deadlines are).
public sealed class RedisTenantRunSlots(IConnectionMultiplexer redis, IOptions<PlannerRedisOptions> options, TimeProvider clock) : ITenantRunSlots
{
    // Drops the slots past their time, then counts and adds in one atomic step, so that Planners
    // starting runs of one tenant at once never give out more than its limit. ARGV: run id, max
    // (0: hold whatever the count), until, now. The key's own expiry follows its last slot, so a
    // tenant that starts no more runs leaves nothing behind; it is relative to `now`, not a time of
    // day, because a test's clock need not be Redis's.
    private const string TakeScript = """
        local now = tonumber(ARGV[4])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local max = tonumber(ARGV[2])
        if max > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= max then
          return 0
        end
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
        local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
        return 1
        """;

    private IDatabase Database => redis.GetDatabase();

    public Task<bool> TryTakeAsync(string tenant, Guid runId, int max, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return TakeAsync(tenant, runId, max, until);
    }

    // A run whose state expires after the retention can no longer give its slot back then.
    public Task HoldAsync(string tenant, Guid runId, DateTimeOffset? until, CancellationToken cancellationToken) =>
        TakeAsync(tenant, runId, max: 0, until ?? clock.GetUtcNow() + options.Value.FinishedRunRetention);

    public Task ReleaseAsync(string tenant, Guid runId, CancellationToken cancellationToken) =>
        Database.SortedSetRemoveAsync(Key(tenant), runId.ToString("D"));

    public async Task<int> CountAsync(string tenant, CancellationToken cancellationToken) =>
        (int)await Database.SortedSetLengthAsync(Key(tenant), clock.GetUtcNow().ToUnixTimeMilliseconds(), double.PositiveInfinity, Exclude.Start);

    private async Task<bool> TakeAsync(string tenant, Guid runId, int max, DateTimeOffset until)
    {
        var taken = await Database.ScriptEvaluateAsync(
            TakeScript,
            [Key(tenant)],
            [runId.ToString("D"), max, until.ToUnixTimeMilliseconds(), clock.GetUtcNow().ToUnixTimeMilliseconds()]);
        return (int)taken == 1;
    }

    private RedisKey Key(string tenant) => options.Value.TenantRunsKey(tenant);
}
