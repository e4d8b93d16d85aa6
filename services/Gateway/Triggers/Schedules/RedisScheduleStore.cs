using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Gateway.Triggers.Schedules;

/// Schedules in Redis, shared by every Gateway replica. Per schedule, under one hash tag (the
/// scripts touch its keys together, and on a cluster a script's keys must share a slot): a hash of
/// its state, a list of its history (newest first) and a key per claimed due time, whose value is
/// `lease|<until, unix ms>|<owner>` while a replica publishes the run and `done` once handled.
/// Leases are judged by the callers' clock (the one due times are judged by), not by key expiry,
/// so that every replica, and a test's movable clock, agree on them.
public sealed class RedisScheduleStore(IConnectionMultiplexer redis, IOptions<ScheduleOptions> options) : IScheduleStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // A claim that another owner's lease still holds is 'held'; an expired lease is taken over.
    private const string LeaseCheck = """
        local v = redis.call('GET', KEYS[1])
        if v == 'done' then return 'done' end
        if v then
          local sep = string.find(v, '|', 7, true)
          local untilMs = tonumber(string.sub(v, 7, sep - 1))
          if string.sub(v, sep + 1) ~= ARGV[1] and untilMs > tonumber(ARGV[2]) then return 'held' end
        end
        """;

    // ARGV: owner, now, until, retention (ms).
    private const string ClaimScript = LeaseCheck + "\n" + """
        redis.call('SET', KEYS[1], 'lease|' .. ARGV[3] .. '|' .. ARGV[1], 'PX', ARGV[4])
        return 'claimed'
        """;

    // KEYS: claim, state, history. ARGV: owner ('' for a record), now, retention, watermark (ms),
    // entry JSON, counter field, count, history limit, '1' for a fire.
    private const string CompleteScript = LeaseCheck + "\n" + """
        redis.call('SET', KEYS[1], 'done', 'PX', ARGV[3])
        local w = tonumber(redis.call('HGET', KEYS[2], 'watermark') or '0')
        if tonumber(ARGV[4]) > w then redis.call('HSET', KEYS[2], 'watermark', ARGV[4]) end
        redis.call('HINCRBY', KEYS[2], ARGV[6], tonumber(ARGV[7]))
        if ARGV[9] == '1' then redis.call('HSET', KEYS[2], 'last_fired', ARGV[5]) end
        redis.call('LPUSH', KEYS[3], ARGV[5])
        redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[8]) - 1)
        return 'claimed'
        """;

    private const string ReleaseScript = """
        local v = redis.call('GET', KEYS[1])
        if v and v ~= 'done' then
          local sep = string.find(v, '|', 7, true)
          if string.sub(v, sep + 1) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        end
        return 1
        """;

    // ARGV: '1' to pause or '0' to resume, at (ms), by.
    private const string PauseScript = """
        redis.call('HSETNX', KEYS[1], 'watermark', ARGV[2])
        if (redis.call('HGET', KEYS[1], 'paused') or '0') == ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'paused', ARGV[1], 'paused_at', ARGV[2], 'paused_by', ARGV[3])
        return 1
        """;

    private IDatabase Database => redis.GetDatabase();

    private ScheduleOptions Options => options.Value;

    public async Task<ScheduleState?> GetAsync(ScheduleId id, CancellationToken cancellationToken) =>
        Read(await Database.HashGetAllAsync(StateKey(id)));

    public async Task<ScheduleState> StartAsync(ScheduleId id, DateTimeOffset from, CancellationToken cancellationToken)
    {
        await Database.HashSetAsync(StateKey(id), "watermark", from.ToUnixTimeMilliseconds(), When.NotExists);
        return (await GetAsync(id, cancellationToken))!;
    }

    public async Task<ClaimOutcome> ClaimAsync(ScheduleId id, DateTimeOffset due, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        Outcome(await Database.ScriptEvaluateAsync(ClaimScript, [ClaimKey(id, due)],
            [owner, now.ToUnixTimeMilliseconds(), (now + lease).ToUnixTimeMilliseconds(), (long)Options.ClaimRetention.TotalMilliseconds]));

    public Task<ClaimOutcome> CompleteAsync(ScheduleId id, DateTimeOffset due, string owner, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, due, owner, entry, now);

    public Task<ClaimOutcome> RecordAsync(ScheduleId id, DateTimeOffset due, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, due, "", entry, now);

    public Task ReleaseAsync(ScheduleId id, DateTimeOffset due, string owner, CancellationToken cancellationToken) =>
        Database.ScriptEvaluateAsync(ReleaseScript, [ClaimKey(id, due)], [owner]);

    public async Task<bool> SetPausedAsync(ScheduleId id, bool paused, DateTimeOffset at, string by, CancellationToken cancellationToken) =>
        (long)(await Database.ScriptEvaluateAsync(PauseScript, [StateKey(id)], [paused ? "1" : "0", at.ToUnixTimeMilliseconds(), by])) == 1;

    public async Task<IReadOnlyList<ScheduleEntry>> HistoryAsync(ScheduleId id, int limit, CancellationToken cancellationToken) =>
        [.. (await Database.ListRangeAsync(HistoryKey(id), 0, limit - 1)).Select(e => JsonSerializer.Deserialize<ScheduleEntry>((string)e!, Json)!)];

    private async Task<ClaimOutcome> FinishAsync(ScheduleId id, DateTimeOffset due, string owner, ScheduleEntry entry, DateTimeOffset now) =>
        Outcome(await Database.ScriptEvaluateAsync(CompleteScript, [ClaimKey(id, due), StateKey(id), HistoryKey(id)],
        [
            owner, now.ToUnixTimeMilliseconds(), (long)Options.ClaimRetention.TotalMilliseconds, entry.Last.ToUnixTimeMilliseconds(),
            JsonSerializer.Serialize(entry, Json), CounterOf(entry.Kind), entry.Count, Options.HistoryLimit, entry.Kind == ScheduleEntryKind.Fired ? "1" : "0",
        ]));

    internal static string CounterOf(ScheduleEntryKind kind) => kind switch
    {
        ScheduleEntryKind.Fired => "fired",
        ScheduleEntryKind.Missed => "missed",
        ScheduleEntryKind.Skipped => "skipped",
        _ => "refused",
    };

    private static ClaimOutcome Outcome(RedisResult result) => (string?)result switch
    {
        "claimed" => ClaimOutcome.Claimed,
        "done" => ClaimOutcome.Done,
        _ => ClaimOutcome.Held,
    };

    private static ScheduleState? Read(HashEntry[] fields)
    {
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => f.Value);
        long Number(string name) => map.TryGetValue(name, out var value) && value.HasValue ? (long)value : 0;
        DateTimeOffset? Time(string name) => map.TryGetValue(name, out var value) && value.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds((long)value) : null;
        var paused = Number("paused") == 1;
        return new ScheduleState(
            Time("watermark") ?? DateTimeOffset.UnixEpoch,
            paused,
            paused ? Time("paused_at") : null,
            paused && map.TryGetValue("paused_by", out var by) ? (string?)by : null,
            Number("fired"), Number("missed"), Number("skipped"), Number("refused"),
            map.TryGetValue("last_fired", out var last) && last.HasValue ? JsonSerializer.Deserialize<ScheduleEntry>((string)last!, Json) : null);
    }

    // One hash tag per schedule: its state, history and claims share a cluster slot.
    private string Base(ScheduleId id) => $"{Options.KeyPrefix}schedules:{{{id.Agent}/{id.Trigger}}}";

    private RedisKey StateKey(ScheduleId id) => Base(id) + ":state";

    private RedisKey HistoryKey(ScheduleId id) => Base(id) + ":history";

    private RedisKey ClaimKey(ScheduleId id, DateTimeOffset due) =>
        Base(id) + ":claim:" + due.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
