using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Agentry.Tests;

/// The real Redis for one test fixture. Every test takes its own key prefix under the fixture's,
/// so tests never see each other's runs, and disposing removes every key the fixture wrote.
public sealed class TestRedis : IAsyncDisposable
{
    private readonly string _fixturePrefix = $"agentry-test:{Guid.NewGuid():N}:";

    private TestRedis(ConnectionMultiplexer multiplexer) => Multiplexer = multiplexer;

    public IConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    /// Fails in CI, or reports NOT RUN elsewhere, when no Redis answers.
    public static async Task<TestRedis> ConnectAsync() =>
        new(await ConnectionMultiplexer.ConnectAsync(TestServers.RequireRedis()));

    /// A second, independent connection: what another process (or the same one after a restart) would have.
    public static Task<ConnectionMultiplexer> ConnectAnotherAsync() =>
        ConnectionMultiplexer.ConnectAsync(TestServers.RequireRedis());

    public string NewKeyPrefix() => $"{_fixturePrefix}{Guid.NewGuid():N}:";

    /// The configuration a service gets in distributed mode, with the test's key prefix.
    public static IConfiguration Configuration(string keyPrefix, params (string Key, string Value)[] more) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:redis"] = TestServers.RedisConfiguration,
                ["Planner:Redis:KeyPrefix"] = keyPrefix,
                ["Evaluator:Redis:KeyPrefix"] = keyPrefix,
                ["ToolExecutor:Redis:KeyPrefix"] = keyPrefix,
            })
            .AddInMemoryCollection(more.Select(m => new KeyValuePair<string, string?>(m.Key, m.Value)))
            .Build();

    public async Task<IReadOnlyList<RedisKey>> KeysAsync(string prefix)
    {
        var keys = new List<RedisKey>();
        foreach (var endpoint in Multiplexer.GetEndPoints())
        {
            await foreach (var key in Multiplexer.GetServer(endpoint).KeysAsync(pattern: prefix + "*"))
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        var keys = await KeysAsync(_fixturePrefix);
        if (keys.Count > 0)
        {
            await Database.KeyDeleteAsync([.. keys]);
        }

        await Multiplexer.DisposeAsync();
    }
}
