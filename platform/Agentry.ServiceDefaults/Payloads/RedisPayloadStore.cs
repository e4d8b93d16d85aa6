using StackExchange.Redis;

namespace Agentry.ServiceDefaults.Payloads;

/// Payloads in the Redis every service shares (decision 0029), each with an expiry past the run's:
/// storing the same content again extends it.
public sealed class RedisPayloadStore(IConnectionMultiplexer redis, string keyPrefix, TimeSpan retention) : IPayloadStore
{
    public string Name => "redis";

    public async Task<bool> PutAsync(string id, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var key = KeyOf(id);
        if (await database.StringSetAsync(key, content, retention, When.NotExists))
        {
            return true;
        }

        await database.KeyExpireAsync(key, retention);
        return false;
    }

    public async Task<byte[]?> GetAsync(string id, int? maxBytes, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        // A payload is never empty (only large ones are stored), so an empty range is a missing key.
        var value = maxBytes is { } max ? await database.StringGetRangeAsync(KeyOf(id), 0, max - 1) : await database.StringGetAsync(KeyOf(id));
        return value.IsNullOrEmpty ? null : (byte[])value!;
    }

    public RedisKey KeyOf(string id) => keyPrefix + PayloadIds.Hex(id);
}
