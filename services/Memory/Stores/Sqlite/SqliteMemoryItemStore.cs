using System.Globalization;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// Long-term memory items in the embedded database, per tenant and user.
public sealed class SqliteMemoryItemStore(SqliteMemoryDatabase database) : IMemoryItemStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    public Task AddItemAsync(MemoryItem item, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO memory_items (tenant_id, user_id, id, text, kind, source_run, created_at)
            VALUES ($tenant, $user, $id, $text, $kind, $run, $at)
            ON CONFLICT (tenant_id, user_id, id) DO NOTHING
            """,
            cancellationToken,
            ("$tenant", Required(item.TenantId)), ("$user", Required(item.UserId)), ("$id", item.Id.ToString()), ("$text", item.Text),
            ("$kind", item.Kind.ToString()), ("$run", item.SourceRunId?.ToString()), ("$at", Timestamp(item.CreatedAt)));

    public Task<IReadOnlyList<MemoryItem>> ListItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        ReadItemsAsync(tenantId, userId, cancellationToken);

    public async Task<bool> DeleteItemAsync(string tenantId, string userId, Guid id, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(
            "DELETE FROM memory_items WHERE tenant_id = $tenant AND user_id = $user AND id = $id",
            cancellationToken,
            ("$tenant", Required(tenantId)), ("$user", Required(userId)), ("$id", id.ToString())) > 0;

    public Task<int> DeleteItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM memory_items WHERE tenant_id = $tenant AND user_id = $user",
            cancellationToken,
            ("$tenant", Required(tenantId)), ("$user", Required(userId)));

    // Newest first before ranking, so that among equal scores the most recent memory wins.
    public async Task<IReadOnlyList<MemoryItem>> SearchItemsAsync(string tenantId, string userId, string query, int limit, CancellationToken cancellationToken) =>
        TermMatch.Rank((await ReadItemsAsync(tenantId, userId, cancellationToken)).Reverse(), item => item.Text, query, limit);

    private async Task<IReadOnlyList<MemoryItem>> ReadItemsAsync(string tenantId, string userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // created_at is fixed-width ISO 8601 in UTC, so text order is time order.
        await using var command = Command(connection,
            "SELECT id, text, kind, source_run, created_at FROM memory_items WHERE tenant_id = $tenant AND user_id = $user ORDER BY created_at, seq",
            ("$tenant", Required(tenantId)), ("$user", Required(userId)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<MemoryItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new MemoryItem(
                Guid.Parse(reader.GetString(0)),
                tenantId,
                userId,
                reader.GetString(1),
                Enum.Parse<MemoryKind>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : Guid.Parse(reader.GetString(3)),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)));
        }

        return items;
    }
}
