using StackExchange.Redis;

namespace Agentry.Agents.Pinning;

/// One string per hash (Agents:PinnedDefinitionKeyPrefix, then the hash). The key needs no
/// deployment of its own: a hash names one content, so two deployments sharing a Redis can only
/// ever write the same value under it.
public sealed class RedisAgentDefinitionStore(IConnectionMultiplexer redis, TimeSpan retention, string keyPrefix = "agentry:agent-definition:") : IAgentDefinitionStore
{
    public Task KeepAsync(string hash, string text, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(keyPrefix + hash, text, retention);

    public async Task<string?> FindAsync(string hash, CancellationToken cancellationToken) =>
        await redis.GetDatabase().StringGetAsync(keyPrefix + hash);
}
