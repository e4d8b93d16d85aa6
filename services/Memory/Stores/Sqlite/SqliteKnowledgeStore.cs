using System.Runtime.InteropServices;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// Knowledge collections and their chunks in the embedded database, per tenant.
public sealed class SqliteKnowledgeStore(SqliteMemoryDatabase database) : IKnowledgeStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    public Task UpsertChunksAsync(IReadOnlyCollection<KnowledgeChunk> chunks, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                foreach (var chunk in chunks)
                {
                    await using var command = Command(
                        connection,
                        """
                        INSERT INTO knowledge_chunks (tenant_id, collection, id, source_path, position, text, embedding)
                        VALUES ($tenant, $collection, $id, $path, $position, $text, $embedding)
                        ON CONFLICT (tenant_id, collection, id) DO UPDATE SET
                          source_path = excluded.source_path, position = excluded.position, text = excluded.text, embedding = excluded.embedding
                        """,
                        ("$tenant", Required(chunk.TenantId)), ("$collection", Required(chunk.Collection)), ("$id", Required(chunk.Id)),
                        ("$path", chunk.SourcePath), ("$position", chunk.Position), ("$text", chunk.Text),
                        ("$embedding", chunk.Embedding is null ? null : MemoryMarshal.AsBytes(chunk.Embedding.AsSpan()).ToArray()));
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            },
            cancellationToken);

    public Task<IReadOnlyList<KnowledgeChunk>> ListChunksAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        ReadChunksAsync(tenantId, collection, null, cancellationToken);

    public async Task<KnowledgeChunk?> GetChunkAsync(string tenantId, string collection, string id, CancellationToken cancellationToken) =>
        (await ReadChunksAsync(tenantId, collection, Required(id), cancellationToken)).SingleOrDefault();

    public async Task<int> DeleteCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken)
    {
        await database.ExecuteAsync(
            "DELETE FROM knowledge_collections WHERE tenant_id = $tenant AND name = $collection",
            cancellationToken,
            ("$tenant", Required(tenantId)), ("$collection", Required(collection)));
        return await database.ExecuteAsync(
            "DELETE FROM knowledge_chunks WHERE tenant_id = $tenant AND collection = $collection",
            cancellationToken,
            ("$tenant", tenantId), ("$collection", collection));
    }

    public Task<int> DeleteSourceAsync(string tenantId, string collection, string sourcePath, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "DELETE FROM knowledge_chunks WHERE tenant_id = $tenant AND collection = $collection AND source_path = $path",
            cancellationToken,
            ("$tenant", Required(tenantId)), ("$collection", Required(collection)), ("$path", sourcePath));

    public async Task<KnowledgeCollection> EnsureCollectionAsync(KnowledgeCollection wanted, CancellationToken cancellationToken)
    {
        await database.ExecuteAsync(
            """
            INSERT INTO knowledge_collections (tenant_id, name, embedder, dimensions, version)
            VALUES ($tenant, $name, $embedder, $dimensions, $version)
            ON CONFLICT (tenant_id, name) DO NOTHING
            """,
            cancellationToken,
            ("$tenant", Required(wanted.TenantId)), ("$name", Required(wanted.Name)), ("$embedder", Required(wanted.Embedder)),
            ("$dimensions", wanted.Dimensions), ("$version", wanted.Version));
        return (await GetCollectionAsync(wanted.TenantId, wanted.Name, cancellationToken))!;
    }

    public async Task<KnowledgeCollection?> GetCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken) =>
        (await ReadCollectionsAsync(Required(tenantId), Required(collection), cancellationToken)).SingleOrDefault();

    public Task SetCollectionVersionAsync(string tenantId, string collection, string version, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            "UPDATE knowledge_collections SET version = $version WHERE tenant_id = $tenant AND name = $collection",
            cancellationToken,
            ("$tenant", Required(tenantId)), ("$collection", Required(collection)), ("$version", version));

    public Task<IReadOnlyList<KnowledgeCollection>> ListCollectionsAsync(string tenantId, CancellationToken cancellationToken) =>
        ReadCollectionsAsync(Required(tenantId), null, cancellationToken);

    // Chunks are counted for a listing only (IKnowledgeStore: "filled in by ListCollectionsAsync
    // only"): one collection's record is read on every retrieval, and counting would scan it each time.
    private async Task<IReadOnlyList<KnowledgeCollection>> ReadCollectionsAsync(string tenantId, string? name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection,
            """
            SELECT c.name, c.embedder, c.dimensions, c.version,
              CASE WHEN $name IS NULL
                THEN (SELECT count(*) FROM knowledge_chunks k WHERE k.tenant_id = c.tenant_id AND k.collection = c.name)
                ELSE 0 END
            FROM knowledge_collections c
            WHERE c.tenant_id = $tenant AND ($name IS NULL OR c.name = $name)
            ORDER BY c.name
            """,
            ("$tenant", tenantId), ("$name", name));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var collections = new List<KnowledgeCollection>();
        while (await reader.ReadAsync(cancellationToken))
        {
            collections.Add(new KnowledgeCollection(tenantId, reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetInt32(4)));
        }

        return collections;
    }

    // The embedded store scans the collection: it is meant for a laptop's worth of documents.
    public async Task<IReadOnlyList<KnowledgeChunk>> SearchChunksAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken) =>
        TermMatch.Rank(await ReadChunksAsync(tenantId, collection, null, cancellationToken), chunk => chunk.Text, query, limit);

    private async Task<IReadOnlyList<KnowledgeChunk>> ReadChunksAsync(string tenantId, string collection, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection,
            """
            SELECT id, source_path, position, text, embedding FROM knowledge_chunks
            WHERE tenant_id = $tenant AND collection = $collection AND ($id IS NULL OR id = $id)
            ORDER BY source_path, position, id
            """,
            ("$tenant", Required(tenantId)), ("$collection", Required(collection)), ("$id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var chunks = new List<KnowledgeChunk>();
        while (await reader.ReadAsync(cancellationToken))
        {
            chunks.Add(new KnowledgeChunk(
                reader.GetString(0),
                tenantId,
                collection,
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(4)).ToArray()));
        }

        return chunks;
    }
}
