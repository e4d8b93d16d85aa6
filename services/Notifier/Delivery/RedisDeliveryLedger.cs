using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Notifier.Delivery;

public sealed class DeliveryLedgerOptions
{
    public const string Section = "Notifier:Redis";

    public string KeyPrefix { get; set; } = "agentry:";

    /// How long a delivery is remembered: a copy that arrives later than this is sent again.
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// The ledger every Notifier replica shares, so a notification goes out once across replicas and
/// restarts. A key holds "sending" (a lease, with an expiry) or "delivered" (kept for Retention).
public sealed class RedisDeliveryLedger(IConnectionMultiplexer redis, IOptions<DeliveryLedgerOptions> options) : IDeliveryLedger
{
    private const string Delivered = "delivered";
    private const string Sending = "sending";

    public async Task<DeliveryClaim> ClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        if (await db.StringSetAsync(Key(key), Sending, lease, When.NotExists))
        {
            return DeliveryClaim.Claimed;
        }

        return await db.StringGetAsync(Key(key)) == Delivered ? DeliveryClaim.Delivered : DeliveryClaim.Busy;
    }

    public Task MarkDeliveredAsync(string key, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(Key(key), Delivered, options.Value.Retention);

    public async Task ReleaseAsync(string key, CancellationToken cancellationToken)
    {
        // Only a lease: a delivery that another copy completed meanwhile stays remembered.
        var transaction = redis.GetDatabase().CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(Key(key), Sending));
        _ = transaction.KeyDeleteAsync(Key(key));
        await transaction.ExecuteAsync();
    }

    private RedisKey Key(string key) => $"{options.Value.KeyPrefix}notified:{key}";
}
