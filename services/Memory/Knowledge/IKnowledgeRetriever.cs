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
