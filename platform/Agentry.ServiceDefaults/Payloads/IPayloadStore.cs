namespace Agentry.ServiceDefaults.Payloads;

/// One place payloads are kept, by content id ("sha256:<hex>"). Writes are idempotent: the same
/// content stored again (a redelivered message) is not written twice.
public interface IPayloadStore
{
    /// file, redis or mongodb: what a PayloadRef names as its Store.
    string Name { get; }

    /// True when the content was written now; false when it was there already.
    Task<bool> PutAsync(string id, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken);

    /// The content, or its first maxBytes; null when the store does not have it (expired, or never stored here).
    Task<byte[]?> GetAsync(string id, int? maxBytes, CancellationToken cancellationToken);
}

/// A bound of docs/durability.md was reached: a message or a run state too large to keep. Deterministic,
/// so never retried: the message goes to its error queue and its run ends with this reason.
public sealed class PayloadBoundException(string message) : Exception(message);

/// A reference names a store this process cannot read.
public sealed class PayloadUnavailableException(string message) : Exception(message);
