using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// Long-term memory items in MongoDB, per tenant and user.
public sealed class MongoMemoryItemStore(MongoMemoryDatabase database) : IMemoryItemStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task AddItemAsync(MemoryItem item, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        // createdTicks keeps the full precision that a BSON date (milliseconds) drops, for ordering and round trips.
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(item.TenantId)).SetOnInsert("user", Required(item.UserId)).SetOnInsert("id", item.Id.ToString())
            .SetOnInsert("text", item.Text).SetOnInsert("kind", item.Kind.ToString())
            .SetOnInsert("sourceRun", item.SourceRunId is { } run ? new BsonString(run.ToString()) : (BsonValue)BsonNull.Value)
            .SetOnInsert("createdAt", item.CreatedAt.UtcDateTime)
            .SetOnInsert("createdTicks", item.CreatedAt.UtcTicks);
        await database.Items.UpdateOneAsync(ItemsOf(item.TenantId, item.UserId).Add("id", item.Id.ToString()), update, Upsert, cancellationToken);
    }

    public async Task<IReadOnlyList<MemoryItem>> ListItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        (await database.Items.Find(ItemsOf(tenantId, userId)).Sort(new BsonDocument { ["createdTicks"] = 1 }).ToListAsync(cancellationToken))
            .Select(ToItem).ToList();

    public async Task<bool> DeleteItemAsync(string tenantId, string userId, Guid id, CancellationToken cancellationToken) =>
        (await database.Items.DeleteOneAsync(ItemsOf(tenantId, userId).Add("id", id.ToString()), cancellationToken)).DeletedCount > 0;

    public async Task<int> DeleteItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        (int)(await database.Items.DeleteManyAsync(ItemsOf(tenantId, userId), cancellationToken)).DeletedCount;

    public async Task<IReadOnlyList<MemoryItem>> SearchItemsAsync(string tenantId, string userId, string query, int limit, CancellationToken cancellationToken)
    {
        var candidates = await database.Items.Find(ItemsOf(tenantId, userId).AddRange(AnyTerm(query)))
            .Sort(new BsonDocument { ["createdTicks"] = -1 }).ToListAsync(cancellationToken);
        return TermMatch.Rank(candidates.Select(ToItem), item => item.Text, query, limit);
    }

    private static BsonDocument ItemsOf(string tenantId, string userId) => new() { ["tenant"] = Required(tenantId), ["user"] = Required(userId) };

    private static MemoryItem ToItem(BsonDocument d) => new(
        Guid.Parse(d["id"].AsString),
        d["tenant"].AsString,
        d["user"].AsString,
        d["text"].AsString,
        Enum.Parse<MemoryKind>(d["kind"].AsString),
        Text(d, "sourceRun") is { } run ? Guid.Parse(run) : null,
        new DateTimeOffset(d["createdTicks"].ToInt64(), TimeSpan.Zero));
}
