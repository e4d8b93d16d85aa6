using StackExchange.Redis;

namespace Agentry.Agents.Pinning;

/// One string per hash. The key needs no deployment prefix: a hash names one content, so two
/// deployments sharing a Redis can only ever write the same value under it.
public sealed class RedisAgentDefinitionStore(IConnectionMultiplexer redis, TimeSpan retention) : IAgentDefinitionStore
{
    public const string KeyPrefix = "agentry:agent-definition:";

    public Task KeepAsync(string hash, string text, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(KeyPrefix + hash, text, retention);

    public async Task<string?> FindAsync(string hash, CancellationToken cancellationToken) =>
        await redis.GetDatabase().StringGetAsync(KeyPrefix + hash);
}
