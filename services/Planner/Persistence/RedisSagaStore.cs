using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Agentry.ServiceDefaults.Payloads;
using MassTransit;
using StackExchange.Redis;

namespace Agentry.Planner.Persistence;

/// Where and for how long a saga type's instances are kept, and the schema versions of their documents.
public sealed class RedisSagaRepositoryOptions<TSaga>(string keyPrefix, Func<TSaga, TimeSpan?> expiry, SagaSchema<TSaga>? schema = null)
    where TSaga : class, ISagaVersion
{
    /// For example "agentry:saga:agentrun:"; the instance id follows.
    public string KeyPrefix { get; } = keyPrefix;

    /// How long an instance may live after this write, or null to keep it until it is deleted.
    public Func<TSaga, TimeSpan?> Expiry { get; } = expiry;

    public SagaSchema<TSaga> Schema { get; } = schema ?? SagaSchema.Unversioned<TSaga>();

    public RedisKey KeyOf(Guid correlationId) => KeyPrefix + correlationId.ToString("D");

    /// The most an instance may be as JSON, in UTF-8 bytes (Payloads:MaxStateBytes); null: no bound.
    public int? MaxBytes { get; init; }
}

/// An instance as it was read, with its JSON re-serialized at load time: comparing it with the
/// instance after the state machine ran tells whether anything changed and needs writing.
public sealed record LoadedSaga<TSaga>(TSaga Instance, string Baseline)
    where TSaga : class, ISagaVersion;

/// The Redis side of the saga repository. An instance is a hash under its own key with two
/// fields, `version` (the instance's, for optimistic concurrency) and `data` (the instance as JSON,
/// its schema version first: SagaSchema, which also upgrades an older document on read). Every write is one Lua script, so the
/// check and the write are atomic without WATCH:
/// - insert writes only when the key does not exist (a duplicated first message cannot create
///   a second instance or overwrite the first);
/// - update and delete apply only when the stored version is the one that was loaded.
/// A failed condition throws MassTransit's ConcurrencyException, so the endpoint's retry loads the
/// instance again and applies the message to what is there now.
public sealed class RedisSagaStore<TSaga>(IConnectionMultiplexer redis, RedisSagaRepositoryOptions<TSaga> options)
    where TSaga : class, ISagaVersion
{
    private const string VersionField = "version";
    private const string DataField = "data";

    // ARGV: version, json, expiry in ms (0: none).
    private const string InsertScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'version', ARGV[1], 'data', ARGV[2])
        if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return 1
        """;

    // ARGV: expected version, new version, json, expiry in ms (0: none). A missing key is a
    // conflict too: the instance expired or was deleted since it was loaded.
    private const string UpdateScript = """
        if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
        if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) else redis.call('PERSIST', KEYS[1]) end
        return 1
        """;

    // ARGV: expected version.
    private const string DeleteScript = """
        if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        return 1
        """;

    private IDatabase Database => redis.GetDatabase();

    public RedisSagaRepositoryOptions<TSaga> Options => options;

    public async Task<LoadedSaga<TSaga>?> LoadAsync(Guid correlationId)
    {
        var fields = await Database.HashGetAsync(options.KeyOf(correlationId), [VersionField, DataField]);
        if (fields[0].IsNull || fields[1].IsNull)
        {
            return null;
        }

        var instance = options.Schema.Deserialize((byte[])fields[1]!, correlationId);

        // The hash field is what the scripts compare, so it is the version that counts.
        instance.Version = (int)fields[0];
        return new LoadedSaga<TSaga>(instance, Serialize(instance));
    }

    /// Writes a new instance at version 1; false when one with the same id exists already.
    public async Task<bool> InsertAsync(TSaga instance)
    {
        instance.Version = 1;
        var json = Bounded(instance, Serialize(instance));
        var inserted = (int)await Database.ScriptEvaluateAsync(
            InsertScript,
            [options.KeyOf(instance.CorrelationId)],
            [instance.Version, json, ExpiryMilliseconds(instance)]);
        if (inserted == 0)
        {
            instance.Version = 0;
        }

        return inserted == 1;
    }

    /// Like InsertAsync, but an existing instance is a conflict: the message that made this one
    /// lost the race to create it and must be applied to the instance that won.
    public async Task InsertOrConflictAsync(TSaga instance)
    {
        if (!await InsertAsync(instance))
        {
            throw Conflict(instance, "it was created by another message at the same time");
        }
    }

    /// Writes the instance as the next version, if the stored one is still the version it was
    /// loaded at. Nothing is written when it equals its baseline: a message that changed nothing
    /// (a duplicate, a late event) neither conflicts with real changes nor extends an expiry.
    public async Task UpdateAsync(TSaga instance, string? baseline)
    {
        if (baseline is not null && Serialize(instance) == baseline)
        {
            return;
        }

        var loadedVersion = instance.Version;
        instance.Version = loadedVersion + 1;
        string json;
        try
        {
            json = Bounded(instance, Serialize(instance));
        }
        catch (PayloadBoundException)
        {
            instance.Version = loadedVersion;
            throw;
        }

        var updated = (int)await Database.ScriptEvaluateAsync(
            UpdateScript,
            [options.KeyOf(instance.CorrelationId)],
            [loadedVersion.ToString(CultureInfo.InvariantCulture), instance.Version, json, ExpiryMilliseconds(instance)]);
        if (updated == 0)
        {
            instance.Version = loadedVersion;
            throw Conflict(instance, $"version {loadedVersion}, which it was loaded at, is no longer the stored one");
        }
    }

    public async Task DeleteAsync(TSaga instance)
    {
        var deleted = (int)await Database.ScriptEvaluateAsync(
            DeleteScript,
            [options.KeyOf(instance.CorrelationId)],
            [instance.Version.ToString(CultureInfo.InvariantCulture)]);
        if (deleted == 0)
        {
            throw Conflict(instance, $"version {instance.Version}, which it was loaded at, is no longer the stored one");
        }
    }

    private long ExpiryMilliseconds(TSaga instance) =>
        options.Expiry(instance) is { } expiry ? Math.Max(1, (long)expiry.TotalMilliseconds) : 0;

    private string Serialize(TSaga instance) => options.Schema.Serialize(instance);

    /// The JSON, if within the bound; else the write is refused with the reason, and nothing is stored.
    private string Bounded(TSaga instance, string json)
    {
        // Counted only when it could be over: a character is at most 4 bytes of UTF-8.
        if (options.MaxBytes is { } max && json.Length > max / 4 && System.Text.Encoding.UTF8.GetByteCount(json) is var size && size > max)
        {
            throw new PayloadBoundException(string.Create(CultureInfo.InvariantCulture,
                $"The state of {typeof(TSaga).Name} {instance.CorrelationId} would be {size:N0} bytes, over the bound of {max:N0} bytes (Payloads:MaxStateBytes); it was not saved. Something large is kept in the run state: lower Payloads:InlineBytes so it is stored out of line, or raise the bound (docs/durability.md)."));
        }

        return json;
    }

    private static ConcurrencyException Conflict(TSaga instance, string why)
    {
        RedisSagaMetrics.Conflicts.Add(1, new KeyValuePair<string, object?>("saga.type", typeof(TSaga).Name));
        return new ConcurrencyException(
            $"{typeof(TSaga).Name} {instance.CorrelationId} was not written: {why}. The message is retried on the current instance.",
            typeof(TSaga),
            instance.CorrelationId);
    }
}

/// Conflicts are expected under concurrent delivery and retried; a steady rise means contention
/// worth looking at (a hot instance, retries exhausted).
public static class RedisSagaMetrics
{
    public const string MeterName = "Agentry.Planner.Saga";
    public const string ConflictsName = "agentry.saga.version_conflicts";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        ConflictsName,
        description: "Saga writes refused because another message changed or created the instance first.");
}
