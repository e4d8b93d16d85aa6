namespace Agentry.Memory;

public enum MemoryKind
{
    Fact,
    Preference,
}

/// One thing remembered about a user across runs.
public sealed record MemoryItem(Guid Id, string TenantId, string UserId, string Text, MemoryKind Kind, Guid? SourceRunId, DateTimeOffset CreatedAt);

/// Long-term memory, per tenant and user. Every operation takes the tenant: one tenant never
/// sees, finds or deletes another's items, even with the same user id.
public interface IMemoryItemStore
{
    /// Adds the item; adding the same id again (a redelivered message) changes nothing.
    Task AddItemAsync(MemoryItem item, CancellationToken cancellationToken);

    /// The user's items, oldest first.
    Task<IReadOnlyList<MemoryItem>> ListItemsAsync(string tenantId, string userId, CancellationToken cancellationToken);

    /// False when the user has no item with that id.
    Task<bool> DeleteItemAsync(string tenantId, string userId, Guid id, CancellationToken cancellationToken);

    /// How many items were deleted.
    Task<int> DeleteItemsAsync(string tenantId, string userId, CancellationToken cancellationToken);

    /// The user's items that share a word with the query, most shared words first, then newest
    /// first (see TermMatch).
    Task<IReadOnlyList<MemoryItem>> SearchItemsAsync(string tenantId, string userId, string query, int limit, CancellationToken cancellationToken);
}
