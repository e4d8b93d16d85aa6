namespace Agentry.Tests;

/// A test fixture on the real Redis: one connection for all its tests, opened before the first and
/// closed (removing every key the fixture wrote) after the last. Tests stay apart by taking their
/// own key prefix from it (Redis.NewKeyPrefix).
public abstract class RedisFixture
{
    private TestRedis? _redis;

    protected TestRedis Redis => _redis ?? throw new InvalidOperationException("Redis is not connected.");

    [OneTimeSetUp]
    public async Task ConnectRedis() => _redis = await TestRedis.ConnectAsync();

    [OneTimeTearDown]
    public async Task DisconnectRedis()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
