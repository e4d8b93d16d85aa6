using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.ToolExecutor;

public sealed class ToolLedgerOptions
{
    public const string Section = "ToolExecutor:Redis";

    public string KeyPrefix { get; set; } = "agentry:";

    /// How long outcomes and claims are kept after the last call of a run.
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    /// A ToolExecutor that has not renewed its liveness key for this long is taken for dead.
    public TimeSpan LivenessTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// The ledger shared by every ToolExecutor. A claim names the process that holds it; each process
/// renews a short-lived liveness key, so a claim whose holder's key has expired was interrupted
/// (the holder was killed) rather than being worked on.
public sealed class RedisToolCallLedger(IConnectionMultiplexer redis, IOptions<ToolLedgerOptions> options) : IToolCallLedger
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// This process, for the claims it takes.
    public string InstanceId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private IDatabase Database => redis.GetDatabase();
    private string Prefix => options.Value.KeyPrefix;

    public async Task<ToolOutcome?> FindAsync(Guid runId, string callId, CancellationToken cancellationToken)
    {
        var json = await Database.HashGetAsync(OutcomesKey(runId), callId);
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize<ToolOutcome>(json.ToString(), Json);
    }

    public async Task<CallClaim> ClaimAsync(Guid runId, string callId, bool takeOverInterrupted, CancellationToken cancellationToken)
    {
        var claims = ClaimsKey(runId);
        if (await Database.HashSetAsync(claims, callId, InstanceId, When.NotExists))
        {
            await Database.KeyExpireAsync(claims, options.Value.Retention);
            return CallClaim.Claimed;
        }

        var holder = (string?)await Database.HashGetAsync(claims, callId);
        if (holder == InstanceId || (holder is not null && await Database.KeyExistsAsync(AliveKey(holder))))
        {
            return CallClaim.RunningElsewhere;
        }

        if (!takeOverInterrupted)
        {
            return CallClaim.Interrupted;
        }

        // Take over only if the dead holder is still the one named: two survivors may race here.
        var taken = await Database.ScriptEvaluateAsync(
            "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end return 0",
            [claims],
            [callId, holder ?? "", InstanceId]);
        return (int)taken == 1 ? CallClaim.Claimed : CallClaim.RunningElsewhere;
    }

    public async Task RecordAsync(Guid runId, ToolOutcome outcome, CancellationToken cancellationToken)
    {
        var key = OutcomesKey(runId);
        await Database.HashSetAsync(key, outcome.CallId, JsonSerializer.Serialize(outcome, Json));
        await Database.KeyExpireAsync(key, options.Value.Retention);
    }

    public Task ReleaseAsync(Guid runId, string callId, CancellationToken cancellationToken) =>
        Database.ScriptEvaluateAsync(
            "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0",
            [ClaimsKey(runId)],
            [callId, InstanceId]);

    // An ended run's ledger expires with its retention instead: a step redelivered late must still
    // find its outcomes rather than run its tools again.
    public Task ForgetAsync(Guid runId, CancellationToken cancellationToken) => Task.CompletedTask;

    // One script, so that two ToolExecutors counting calls of the same run cannot both take the last one.
    public async Task<bool> CountCallAsync(Guid runId, string tool, string callId, int limit, CancellationToken cancellationToken)
    {
        var counted = await Database.ScriptEvaluateAsync(
            """
            if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
            if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
            redis.call('SADD', KEYS[1], ARGV[1])
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
            return 1
            """,
            [CountKey(runId, tool)],
            [callId, limit, (long)options.Value.Retention.TotalMilliseconds]);
        return (int)counted == 1;
    }

    public Task RenewLivenessAsync() => Database.StringSetAsync(AliveKey(InstanceId), "1", options.Value.LivenessTimeout);

    private RedisKey OutcomesKey(Guid runId) => $"{Prefix}tools:{runId}:outcomes";

    private RedisKey ClaimsKey(Guid runId) => $"{Prefix}tools:{runId}:claims";

    private RedisKey CountKey(Guid runId, string tool) => $"{Prefix}tools:{runId}:count:{tool}";

    private RedisKey AliveKey(string instance) => $"{Prefix}toolexecutor:alive:{instance}";
}

/// Keeps this ToolExecutor's liveness key fresh, at a third of its timeout.
public sealed class ToolExecutorLiveness(
    RedisToolCallLedger ledger,
    IOptions<ToolLedgerOptions> options,
    TimeProvider clock,
    ILogger<ToolExecutorLiveness> logger) : PeriodicBackgroundService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.LivenessTimeout / 3;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Alive before the first message can be claimed.
        await ledger.RenewLivenessAsync();
        await base.StartAsync(cancellationToken);
    }

    // When Redis is away the round fails and the next one tries again; the claims wait for it.
    protected override Task RunRoundAsync(CancellationToken stoppingToken) => ledger.RenewLivenessAsync();
}
