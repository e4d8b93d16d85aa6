using Agentry.Planner.Persistence;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Planner.Persistence;

/// Many messages for one instance, consumed eight at a time by the same endpoint conventions the
/// services use (retry outside the in-memory outbox): every conflict must end in a retry that
/// re-applies the message to the current instance.
public sealed class When_many_messages_reach_one_saga_at_once : HarnessFixture
{
    private const int Messages = 24;

    private TestRedis? _redis;
    private string _keyPrefix = "";
    private CompletedReceives _receives = null!;

    private TestRedis Redis => _redis ?? throw new InvalidOperationException("Redis is not connected.");

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

    protected override void ConfigureServices(IServiceCollection services)
    {
        _keyPrefix = Redis.NewKeyPrefix();
        services.AddSingleton(Redis.Multiplexer);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) =>
        bus.AddSagaStateMachine<TallyStateMachine, TallyState>()
            .Endpoint(e => e.ConcurrentMessageLimit = 8)
            .RedisRepository(_ => new RedisSagaRepositoryOptions<TallyState>(_keyPrefix + "tally:", _ => null));

    [SetUp]
    public void CountReceives()
    {
        _receives = new CompletedReceives();
        Harness.Bus.ConnectReceiveObserver(_receives);
    }

    [Test]
    public async Task Should_never_lose_an_update_under_concurrent_messages()
    {
        using var conflicts = new SagaConflicts(nameof(TallyState));
        var tallyId = NewId.NextGuid();

        await Task.WhenAll(Enumerable.Range(1, Messages).Select(n => Harness.Bus.Publish(new TallyCounted(tallyId, n))));
        await _receives.WaitFor(Messages);

        var tally = await Provider.GetRequiredService<ILoadSagaRepository<TallyState>>().Load(tallyId);
        Assert.That(tally, Is.Not.Null);
        Assert.That(tally!.Numbers.Order(), Is.EqualTo(Enumerable.Range(1, Messages)), "an update was lost or applied twice");
        Assert.That((tally.Count, tally.Version), Is.EqualTo((Messages, Messages)), "one insert and one update per message");
        Assert.That(Harness.Published.Select<Fault<TallyCounted>>().Count(), Is.Zero, "a message ran out of retries");
        Assert.That(conflicts.Count, Is.GreaterThan(0), "no two messages ever raced: the test proved nothing about conflicts");
        TestContext.Out.WriteLine($"{conflicts.Count} conflicts retried for {Messages} messages.");
    }
}
