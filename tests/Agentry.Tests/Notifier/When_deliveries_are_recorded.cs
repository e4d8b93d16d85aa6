using Agentry.Notifier.Delivery;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Notifier;

/// The delivery ledger's contract, on both backends: a notification is claimed by one sender at a
/// time, remembered once sent, and free again when its sender gave it up or its lease ended. On
/// Redis, two connections stand for two Notifier replicas.
[TestFixture("memory")]
[TestFixture("redis")]
public sealed class When_deliveries_are_recorded(string backend)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private TestRedis? _redis;
    private StackExchange.Redis.ConnectionMultiplexer? _other;
    private Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = null!;
    private IDeliveryLedger _replica = null!;
    private IDeliveryLedger _otherReplica = null!;

    [SetUp]
    public async Task CreateLedgers()
    {
        _clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        if (backend == "memory")
        {
            _replica = _otherReplica = new InMemoryDeliveryLedger(_clock);
            return;
        }

        _redis = await TestRedis.ConnectAsync();
        _other = await TestRedis.ConnectAnotherAsync();
        var options = Options.Create(new DeliveryLedgerOptions { KeyPrefix = _redis.NewKeyPrefix() });
        _replica = new RedisDeliveryLedger(_redis.Multiplexer, options);
        _otherReplica = new RedisDeliveryLedger(_other, options);
    }

    [TearDown]
    public async Task Disconnect()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
            await _other!.DisposeAsync();
        }
    }

    [Test]
    public async Task Should_let_one_sender_claim_a_notification_and_tell_the_others_it_is_busy()
    {
        Assert.That(await _replica.ClaimAsync("webhook:run.completed:1:2", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Claimed));
        Assert.That(await _otherReplica.ClaimAsync("webhook:run.completed:1:2", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Busy));
        Assert.That(await _otherReplica.ClaimAsync("slack:run.completed:1:2", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Claimed), "each channel on its own");
    }

    [Test]
    public async Task Should_remember_a_sent_notification()
    {
        await _replica.ClaimAsync("webhook:k", Lease, CancellationToken.None);
        await _replica.MarkDeliveredAsync("webhook:k", CancellationToken.None);

        Assert.That(await _otherReplica.ClaimAsync("webhook:k", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Delivered));
        await _otherReplica.ReleaseAsync("webhook:k", CancellationToken.None);
        Assert.That(await _replica.ClaimAsync("webhook:k", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Delivered), "giving up a claim never forgets a delivery");
    }

    [Test]
    public async Task Should_free_a_notification_whose_sender_gave_it_up()
    {
        await _replica.ClaimAsync("webhook:k", Lease, CancellationToken.None);
        await _replica.ReleaseAsync("webhook:k", CancellationToken.None);

        Assert.That(await _otherReplica.ClaimAsync("webhook:k", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Claimed));
    }

    [Test]
    public async Task Should_free_a_notification_whose_sender_died_when_the_lease_ends()
    {
        var lease = TimeSpan.FromMilliseconds(300);
        await _replica.ClaimAsync("webhook:k", lease, CancellationToken.None);

        // Redis expires the key on its own clock; the in-memory ledger reads the TimeProvider.
        _clock.Advance(TimeSpan.FromSeconds(1));
        if (_redis is not null)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        Assert.That(await _otherReplica.ClaimAsync("webhook:k", Lease, CancellationToken.None), Is.EqualTo(DeliveryClaim.Claimed));
    }
}
