namespace Agentry.Memory;

/// A piece of a source document in a knowledge collection. Id is the caller's (stable across
/// re-ingestion, e.g. "path#3"), unique within the tenant's collection.
public sealed record KnowledgeChunk(string Id, string TenantId, string Collection, string SourcePath, int Position, string Text, float[]? Embedding = null);

/// Knowledge collections, per tenant. Every operation takes the tenant.
public interface IKnowledgeStore
{
    /// Inserts or replaces each chunk by (tenant, collection, id).
    Task UpsertChunksAsync(IReadOnlyCollection<KnowledgeChunk> chunks, CancellationToken cancellationToken);

    /// The collection's chunks ordered by source path, then position.
    Task<IReadOnlyList<KnowledgeChunk>> ListChunksAsync(string tenantId, string collection, CancellationToken cancellationToken);

    Task<KnowledgeChunk?> GetChunkAsync(string tenantId, string collection, string id, CancellationToken cancellationToken);

    /// How many chunks were deleted.
    Task<int> DeleteCollectionAsync(string tenantId, string collection, CancellationToken cancellationToken);

    /// The chunks that share a word with the query, most shared words first, then in collection
    /// order (see TermMatch).
    Task<IReadOnlyList<KnowledgeChunk>> SearchChunksAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken);
}
