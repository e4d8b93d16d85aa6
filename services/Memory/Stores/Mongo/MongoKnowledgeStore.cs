using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// Knowledge collections and their chunks in MongoDB, per tenant.
public sealed class MongoKnowledgeStore(MongoMemoryDatabase database) : IKnowledgeStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task UpsertChunksAsync(IReadOnlyCollection<KnowledgeChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        await database.EnsureIndexesAsync(cancellationToken);
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
        await database.Chunks.BulkWriteAsync(writes, new BulkWriteOptions { IsOrdered = false }, cancellationToken);
    }

    public async Task<IReadOnlyList<KnowledgeChunk>> ListChunksAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        (await database.Chunks.Find(ChunksOf(tenantId, collection)).Sort(ChunkOrder).ToListAsync(cancellationToken)).Select(ToChunk).ToList();

    public async Task<KnowledgeChunk?> GetChunkAsync(string tenantId, string collection, string id, CancellationToken cancellationToken) =>
        await database.Chunks.Find(ChunksOf(tenantId, collection).Add("id", Required(id))).FirstOrDefaultAsync(cancellationToken) is { } found ? ToChunk(found) : null;

    public async Task<int> DeleteCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken)
    {
        await database.Collections.DeleteOneAsync(CollectionOf(tenantId, collection), cancellationToken);
        return (int)(await database.Chunks.DeleteManyAsync(ChunksOf(tenantId, collection), cancellationToken)).DeletedCount;
    }

    public async Task<int> DeleteSourceAsync(string tenantId, string collection, string sourcePath, CancellationToken cancellationToken) =>
        (int)(await database.Chunks.DeleteManyAsync(ChunksOf(tenantId, collection).Add("source", sourcePath), cancellationToken)).DeletedCount;

    public async Task<KnowledgeCollection> EnsureCollectionAsync(KnowledgeCollection wanted, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var insert = Builders<BsonDocument>.Update
            .SetOnInsert("embedder", Required(wanted.Embedder)).SetOnInsert("dimensions", wanted.Dimensions).SetOnInsert("version", wanted.Version);
        try
        {
            await database.Collections.UpdateOneAsync(CollectionOf(wanted.TenantId, wanted.Name), insert, Upsert, cancellationToken);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Two first ingests at once: the other one inserted it; it is read below.
        }

        return (await GetCollectionAsync(wanted.TenantId, wanted.Name, cancellationToken))!;
    }

    public async Task<KnowledgeCollection?> GetCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        await database.Collections.Find(CollectionOf(tenantId, collection)).FirstOrDefaultAsync(cancellationToken) is { } found
            ? ToCollection(found, 0)
            : null;

    public Task SetCollectionVersionAsync(string tenantId, string collection, string version, CancellationToken cancellationToken) =>
        database.Collections.UpdateOneAsync(CollectionOf(tenantId, collection), Builders<BsonDocument>.Update.Set("version", version), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<KnowledgeCollection>> ListCollectionsAsync(string tenantId, CancellationToken cancellationToken)
    {
        var records = await database.Collections.Find(new BsonDocument("tenant", Required(tenantId))).Sort(new BsonDocument("name", 1)).ToListAsync(cancellationToken);
        var listed = new List<KnowledgeCollection>(records.Count);
        foreach (var record in records)
        {
            var chunks = await database.Chunks.CountDocumentsAsync(ChunksOf(tenantId, record["name"].AsString), cancellationToken: cancellationToken);
            listed.Add(ToCollection(record, (int)chunks));
        }

        return listed;
    }

    private static BsonDocument CollectionOf(string tenantId, string collection) => new() { ["tenant"] = Required(tenantId), ["name"] = Required(collection) };

    private static KnowledgeCollection ToCollection(BsonDocument d, int chunks) =>
        new(d["tenant"].AsString, d["name"].AsString, d["embedder"].AsString, d["dimensions"].AsInt32, d["version"].AsString, chunks);

    public async Task<IReadOnlyList<KnowledgeChunk>> SearchChunksAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken)
    {
        var candidates = await database.Chunks.Find(ChunksOf(tenantId, collection).AddRange(AnyTerm(query))).Sort(ChunkOrder).ToListAsync(cancellationToken);
        return TermMatch.Rank(candidates.Select(ToChunk), chunk => chunk.Text, query, limit);
    }

    private static readonly BsonDocument ChunkOrder = new() { ["source"] = 1, ["position"] = 1, ["id"] = 1 };

    private static BsonDocument ChunksOf(string tenantId, string collection) => new() { ["tenant"] = Required(tenantId), ["collection"] = Required(collection) };

    private static KnowledgeChunk ToChunk(BsonDocument d) => new(
        d["id"].AsString,
        d["tenant"].AsString,
        d["collection"].AsString,
        d["source"].AsString,
        d["position"].AsInt32,
        d["text"].AsString,
        d.GetValue("embedding", BsonNull.Value) is BsonArray embedding ? embedding.Select(v => (float)v.ToDouble()).ToArray() : null);
}
