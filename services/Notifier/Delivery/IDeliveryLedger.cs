namespace Agentry.Notifier.Delivery;

/// What became of one notification on one channel.
public enum DeliveryClaim
{
    /// Not sent yet and now reserved for this sender: send it, then say so.
    Claimed,

    /// Sent before: skip it.
    Delivered,

    /// Another sender holds it right now: wait, then ask again.
    Busy,
}

/// Which notifications went out, per channel, so that one that arrives again (an outcome the saga
/// published again after a redelivery, a DeliverNotification redelivered after a crash) is sent
/// once. A claim is a lease: a sender that dies while sending loses it when the lease ends, and the
/// next copy sends. The receiver can still see a repeat when a sender dies after sending and
/// before saying so: the webhook's Idempotency-Key lets it recognise that one.
public interface IDeliveryLedger
{
    Task<DeliveryClaim> ClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken);

    Task MarkDeliveredAsync(string key, CancellationToken cancellationToken);

    /// Gives a claim up after a failed send, so that the retry may claim it at once.
    Task ReleaseAsync(string key, CancellationToken cancellationToken);
}
