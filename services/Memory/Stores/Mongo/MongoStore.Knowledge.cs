using System.Text.RegularExpressions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Memory;

public sealed partial class MongoStore
{
    public async Task AddItemAsync(MemoryItem item, CancellationToken cancellationToken)
    {
        await EnsureIndexesAsync(cancellationToken);
        // createdTicks keeps the full precision that a BSON date (milliseconds) drops, for ordering and round trips.
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(item.TenantId)).SetOnInsert("user", Required(item.UserId)).SetOnInsert("id", item.Id.ToString())
            .SetOnInsert("text", item.Text).SetOnInsert("kind", item.Kind.ToString())
            .SetOnInsert("sourceRun", item.SourceRunId is { } run ? new BsonString(run.ToString()) : (BsonValue)BsonNull.Value)
            .SetOnInsert("createdAt", item.CreatedAt.UtcDateTime)
            .SetOnInsert("createdTicks", item.CreatedAt.UtcTicks);
        await _items.UpdateOneAsync(ItemsOf(item.TenantId, item.UserId).Add("id", item.Id.ToString()), update, Upsert, cancellationToken);
    }

    public async Task<IReadOnlyList<MemoryItem>> ListItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        (await _items.Find(ItemsOf(tenantId, userId)).Sort(new BsonDocument { ["createdTicks"] = 1 }).ToListAsync(cancellationToken))
            .Select(ToItem).ToList();

    public async Task<bool> DeleteItemAsync(string tenantId, string userId, Guid id, CancellationToken cancellationToken) =>
        (await _items.DeleteOneAsync(ItemsOf(tenantId, userId).Add("id", id.ToString()), cancellationToken)).DeletedCount > 0;

    public async Task<int> DeleteItemsAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        (int)(await _items.DeleteManyAsync(ItemsOf(tenantId, userId), cancellationToken)).DeletedCount;

    public async Task<IReadOnlyList<MemoryItem>> SearchItemsAsync(string tenantId, string userId, string query, int limit, CancellationToken cancellationToken)
    {
        var candidates = await _items.Find(ItemsOf(tenantId, userId).AddRange(AnyTerm(query)))
            .Sort(new BsonDocument { ["createdTicks"] = -1 }).ToListAsync(cancellationToken);
        return TermMatch.Rank(candidates.Select(ToItem), item => item.Text, query, limit);
    }

    public async Task UpsertChunksAsync(IReadOnlyCollection<KnowledgeChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        await EnsureIndexesAsync(cancellationToken);
        var writes = chunks.Select(chunk => new ReplaceOneModel<BsonDocument>(
            ChunksOf(chunk.TenantId, chunk.Collection).Add("id", Required(chunk.Id)),
            new BsonDocument
            {
                ["tenant"] = chunk.TenantId,
                ["collection"] = chunk.Collection,
                ["id"] = chunk.Id,
                ["source"] = chunk.SourcePath,
                ["position"] = chunk.Position,
                ["text"] = chunk.Text,
                ["embedding"] = chunk.Embedding is null ? BsonNull.Value : new BsonArray(chunk.Embedding.Select(v => (double)v)),
            })
        { IsUpsert = true });
        await _chunks.BulkWriteAsync(writes, new BulkWriteOptions { IsOrdered = false }, cancellationToken);
    }

    public async Task<IReadOnlyList<KnowledgeChunk>> ListChunksAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        (await _chunks.Find(ChunksOf(tenantId, collection)).Sort(ChunkOrder).ToListAsync(cancellationToken)).Select(ToChunk).ToList();

    public async Task<KnowledgeChunk?> GetChunkAsync(string tenantId, string collection, string id, CancellationToken cancellationToken) =>
        await _chunks.Find(ChunksOf(tenantId, collection).Add("id", Required(id))).FirstOrDefaultAsync(cancellationToken) is { } found ? ToChunk(found) : null;

    public async Task<int> DeleteCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken)
    {
        await _collections.DeleteOneAsync(CollectionOf(tenantId, collection), cancellationToken);
        return (int)(await _chunks.DeleteManyAsync(ChunksOf(tenantId, collection), cancellationToken)).DeletedCount;
    }

    public async Task<int> DeleteSourceAsync(string tenantId, string collection, string sourcePath, CancellationToken cancellationToken) =>
        (int)(await _chunks.DeleteManyAsync(ChunksOf(tenantId, collection).Add("source", sourcePath), cancellationToken)).DeletedCount;

    public async Task<KnowledgeCollection> EnsureCollectionAsync(KnowledgeCollection wanted, CancellationToken cancellationToken)
    {
        await EnsureIndexesAsync(cancellationToken);
        var insert = Builders<BsonDocument>.Update
            .SetOnInsert("embedder", Required(wanted.Embedder)).SetOnInsert("dimensions", wanted.Dimensions).SetOnInsert("version", wanted.Version);
        try
        {
            await _collections.UpdateOneAsync(CollectionOf(wanted.TenantId, wanted.Name), insert, Upsert, cancellationToken);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Two first ingests at once: the other one inserted it; it is read below.
        }

        return (await GetCollectionAsync(wanted.TenantId, wanted.Name, cancellationToken))!;
    }

    public async Task<KnowledgeCollection?> GetCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        await _collections.Find(CollectionOf(tenantId, collection)).FirstOrDefaultAsync(cancellationToken) is { } found
            ? ToCollection(found, 0)
            : null;

    public Task SetCollectionVersionAsync(string tenantId, string collection, string version, CancellationToken cancellationToken) =>
        _collections.UpdateOneAsync(CollectionOf(tenantId, collection), Builders<BsonDocument>.Update.Set("version", version), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<KnowledgeCollection>> ListCollectionsAsync(string tenantId, CancellationToken cancellationToken)
    {
        var records = await _collections.Find(new BsonDocument("tenant", Required(tenantId))).Sort(new BsonDocument("name", 1)).ToListAsync(cancellationToken);
        var listed = new List<KnowledgeCollection>(records.Count);
        foreach (var record in records)
        {
            var chunks = await _chunks.CountDocumentsAsync(ChunksOf(tenantId, record["name"].AsString), cancellationToken: cancellationToken);
            listed.Add(ToCollection(record, (int)chunks));
        }

        return listed;
    }

    private static BsonDocument CollectionOf(string tenantId, string collection) => new() { ["tenant"] = Required(tenantId), ["name"] = Required(collection) };

    private static KnowledgeCollection ToCollection(BsonDocument d, int chunks) =>
        new(d["tenant"].AsString, d["name"].AsString, d["embedder"].AsString, d["dimensions"].AsInt32, d["version"].AsString, chunks);

    public async Task<IReadOnlyList<KnowledgeChunk>> SearchChunksAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken)
    {
        var candidates = await _chunks.Find(ChunksOf(tenantId, collection).AddRange(AnyTerm(query))).Sort(ChunkOrder).ToListAsync(cancellationToken);
        return TermMatch.Rank(candidates.Select(ToChunk), chunk => chunk.Text, query, limit);
    }

    private static readonly BsonDocument ChunkOrder = new() { ["source"] = 1, ["position"] = 1, ["id"] = 1 };

    private static BsonDocument ItemsOf(string tenantId, string userId) => new() { ["tenant"] = Required(tenantId), ["user"] = Required(userId) };

    private static BsonDocument ChunksOf(string tenantId, string collection) => new() { ["tenant"] = Required(tenantId), ["collection"] = Required(collection) };

    // Narrows the candidates in the database (any query word as a case-insensitive substring, a
    // superset of TermMatch's whole words); TermMatch then ranks them as the SQLite store does.
    private static BsonDocument AnyTerm(string query)
    {
        var terms = TermMatch.Terms(query);
        var anyOf = terms.Count == 0
            ? new BsonArray { new BsonDocument("_id", new BsonDocument("$exists", false)) }
            : new BsonArray(terms.Select(term => new BsonDocument("text", new BsonRegularExpression(Regex.Escape(term), "i"))));
        return new BsonDocument("$or", anyOf);
    }

    private static MemoryItem ToItem(BsonDocument d) => new(
        Guid.Parse(d["id"].AsString),
        d["tenant"].AsString,
        d["user"].AsString,
        d["text"].AsString,
        Enum.Parse<MemoryKind>(d["kind"].AsString),
        Text(d, "sourceRun") is { } run ? Guid.Parse(run) : null,
        new DateTimeOffset(d["createdTicks"].ToInt64(), TimeSpan.Zero));

    private static KnowledgeChunk ToChunk(BsonDocument d) => new(
        d["id"].AsString,
        d["tenant"].AsString,
        d["collection"].AsString,
        d["source"].AsString,
        d["position"].AsInt32,
        d["text"].AsString,
        d.GetValue("embedding", BsonNull.Value) is BsonArray embedding ? embedding.Select(v => (float)v.ToDouble()).ToArray() : null);
}
