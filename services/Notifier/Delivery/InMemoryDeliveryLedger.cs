namespace Agentry.Notifier.Delivery;

/// The embedded mode's ledger: one process, so one dictionary; it forgets on restart.
public sealed class InMemoryDeliveryLedger(TimeProvider clock) : IDeliveryLedger
{
    private readonly Dictionary<string, DateTimeOffset?> _entries = new(StringComparer.Ordinal);

    public Task<DeliveryClaim> ClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var leasedUntil))
            {
                if (leasedUntil is null)
                {
                    return Task.FromResult(DeliveryClaim.Delivered);
                }

                if (leasedUntil > now)
                {
                    return Task.FromResult(DeliveryClaim.Busy);
                }
            }

            _entries[key] = now + lease;
            return Task.FromResult(DeliveryClaim.Claimed);
        }
    }

    public Task MarkDeliveredAsync(string key, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            _entries[key] = null;
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string key, CancellationToken cancellationToken)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var leasedUntil) && leasedUntil is not null)
            {
                _entries.Remove(key);
            }
        }

        return Task.CompletedTask;
    }
}
