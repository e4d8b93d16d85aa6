namespace Agentry.Memory;

/// A passage found in a knowledge collection. Source and Position say where it came from, so an
/// answer can cite it; Score orders passages, higher first, and is comparable only within one result.
public sealed record RetrievedPassage(string Collection, string ChunkId, string Source, int Position, string Text, double Score);

/// Finds the passages of a tenant's collections that best answer a query: what the context
/// assembly retrieves automatically and what the search_knowledge tool returns.
public interface IKnowledgeRetriever
{
    Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(string tenantId, IReadOnlyList<string> collections, string query, int limit, CancellationToken cancellationToken);
}

/// Retrieval by shared words alone (see TermMatch), straight from the store.
public sealed class TermMatchRetriever(IKnowledgeStore store) : IKnowledgeRetriever
{
    public async Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(string tenantId, IReadOnlyList<string> collections, string query, int limit, CancellationToken cancellationToken)
    {
        var passages = new List<RetrievedPassage>();
        foreach (var collection in collections)
        {
            var chunks = await store.SearchChunksAsync(tenantId, collection, query, limit, cancellationToken);
            // The store ranks but does not score: rank within each collection stands in for a score.
            passages.AddRange(chunks.Select((chunk, rank) => new RetrievedPassage(collection, chunk.Id, chunk.SourcePath, chunk.Position, chunk.Text, 1.0 / (rank + 1))));
        }

        return passages.OrderByDescending(p => p.Score).Take(limit).ToList();
    }
}
