namespace Agentry.Memory;

/// A piece of a source document in a knowledge collection. Id is the caller's (stable across
/// re-ingestion, e.g. "path#3"), unique within the tenant's collection.
public sealed record KnowledgeChunk(string Id, string TenantId, string Collection, string SourcePath, int Position, string Text, float[]? Embedding = null);

/// A collection's record: which embedder built its vectors (so that two embedders never share one
/// collection) and a version that changes with every ingest, which tells readers in other processes
/// that their cached index is stale. Chunks is filled in by ListCollectionsAsync only.
public sealed record KnowledgeCollection(string TenantId, string Name, string Embedder, int Dimensions, string Version, int Chunks = 0);

/// Knowledge collections, per tenant. Every operation takes the tenant.
public interface IKnowledgeStore
{
    /// Inserts or replaces each chunk by (tenant, collection, id).
    Task UpsertChunksAsync(IReadOnlyCollection<KnowledgeChunk> chunks, CancellationToken cancellationToken);

    /// The collection's chunks ordered by source path, then position.
    Task<IReadOnlyList<KnowledgeChunk>> ListChunksAsync(string tenantId, string collection, CancellationToken cancellationToken);

    Task<KnowledgeChunk?> GetChunkAsync(string tenantId, string collection, string id, CancellationToken cancellationToken);

    /// How many chunks were deleted; the collection's record goes with them.
    Task<int> DeleteCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken);

    /// The chunks that share a word with the query, most shared words first, then in collection
    /// order (see TermMatch).
    Task<IReadOnlyList<KnowledgeChunk>> SearchChunksAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken);

    /// Deletes one source's chunks (before it is ingested again, possibly shorter); how many.
    Task<int> DeleteSourceAsync(string tenantId, string collection, string sourcePath, CancellationToken cancellationToken);

    /// The collection's record as stored: the one given when there was none, else the existing one
    /// unchanged (the caller compares embedders).
    Task<KnowledgeCollection> EnsureCollectionAsync(KnowledgeCollection wanted, CancellationToken cancellationToken);

    Task<KnowledgeCollection?> GetCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken);

    /// Records a new version of an existing collection (after its chunks changed).
    Task SetCollectionVersionAsync(string tenantId, string collection, string version, CancellationToken cancellationToken);

    /// The tenant's collections by name, each with its chunk count.
    Task<IReadOnlyList<KnowledgeCollection>> ListCollectionsAsync(string tenantId, CancellationToken cancellationToken);
}
