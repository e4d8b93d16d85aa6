using System.Collections.Concurrent;

namespace Agentry.Memory;

/// Hybrid retrieval: BM25 over the chunks' words and cosine similarity of their embeddings, fused by
/// reciprocal rank fusion (RRF): a chunk scores the sum over both rankings of 1 / (60 + rank), rank
/// counted from 1 over each list's best 50. RRF needs no calibration between BM25's unbounded scores
/// and cosines in [-1, 1], and a chunk that both find ranks above one that only one finds.
/// Each (tenant, collection) is searched in an in-memory KnowledgeIndex, built from the store on first
/// use and rebuilt when the collection's version changes (every ingest and delete changes it, in
/// whatever process they ran): one small read of the collection's record per search checks it.
/// Collections without a record (chunks written straight to the store) get the store's word match.
public sealed class HybridRetriever(IKnowledgeStore store, ITextEmbedder embedder) : IKnowledgeRetriever
{
    public const int RrfK = 60;
    public const int Candidates = 50;

    private readonly ConcurrentDictionary<(string Tenant, string Collection), Lazy<Task<KnowledgeIndex>>> _indexes = new();

    public async Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(string tenantId, IReadOnlyList<string> collections, string query, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var terms = KnowledgeText.Terms(query);
        float[]? queryVector = null;
        var passages = new List<RetrievedPassage>();
        foreach (var collection in collections.Distinct(StringComparer.Ordinal))
        {
            var record = await store.GetCollectionAsync(tenantId, collection, cancellationToken);
            if (record is null)
            {
                var chunks = await store.SearchChunksAsync(tenantId, collection, query, limit, cancellationToken);
                passages.AddRange(chunks.Select((chunk, rank) => Passage(collection, chunk, 1.0 / (RrfK + rank + 1))));
                continue;
            }

            if (record.Embedder != embedder.Name)
            {
                throw new EmbedderMismatchException(
                    $"The knowledge collection '{collection}' was built with the embedder {record.Embedder} ({record.Dimensions} dimensions), "
                    + $"but this process embeds with {embedder.Name}: vectors of two models cannot be compared. "
                    + $"Configure {record.Embedder} again (Llm:Embeddings), or rebuild the collection: agentry kb delete {collection}, then agentry kb ingest {collection} PATH.");
            }

            var index = await IndexAsync(record, cancellationToken);
            var lexical = index.Bm25(terms, Candidates);
            IReadOnlyList<(int Doc, float Score)> semantic = [];
            if (index.Dimensions > 0 && query.Trim().Length > 0)
            {
                queryVector ??= (await embedder.EmbedAsync([query], cancellationToken))[0];
                semantic = index.Nearest(queryVector, Candidates);
            }

            passages.AddRange(Fuse(lexical, semantic).Select(f => Passage(collection, index.Chunks[f.Doc], f.Score)));
        }

        return passages.OrderByDescending(p => p.Score).Take(limit).ToList();
    }

    /// Reciprocal rank fusion of two rankings, best first; ties keep source order.
    public static IEnumerable<(int Doc, double Score)> Fuse(IReadOnlyList<(int Doc, float Score)> lexical, IReadOnlyList<(int Doc, float Score)> semantic)
    {
        var fused = new Dictionary<int, double>();
        foreach (var ranking in new[] { lexical, semantic })
        {
            for (var rank = 0; rank < ranking.Count; rank++)
            {
                fused[ranking[rank].Doc] = fused.GetValueOrDefault(ranking[rank].Doc) + (1.0 / (RrfK + rank + 1));
            }
        }

        return fused.OrderByDescending(f => f.Value).ThenBy(f => f.Key).Select(f => (f.Key, f.Value));
    }

    /// Drops the cached index (this process changed the collection; other processes see the version).
    public void Invalidate(string tenantId, string collection) => _indexes.TryRemove((tenantId, collection), out _);

    private async Task<KnowledgeIndex> IndexAsync(KnowledgeCollection record, CancellationToken cancellationToken)
    {
        var key = (record.TenantId, record.Name);
        while (true)
        {
            var cached = _indexes.GetOrAdd(key, _ => Build(record));
            KnowledgeIndex index;
            try
            {
                index = await cached.Value.WaitAsync(cancellationToken);
            }
            catch when (cached.Value.IsFaulted)
            {
                _indexes.TryRemove(KeyValuePair.Create(key, cached));
                throw;
            }

            if (index.Version == record.Version)
            {
                return index;
            }

            // Built from an older version: replace it, unless another search already did.
            _indexes.TryUpdate(key, Build(record), cached);
        }
    }

    private Lazy<Task<KnowledgeIndex>> Build(KnowledgeCollection record) =>
        new(async () => new KnowledgeIndex(await store.ListChunksAsync(record.TenantId, record.Name, CancellationToken.None), record.Version));

    private static RetrievedPassage Passage(string collection, KnowledgeChunk chunk, double score) =>
        new(collection, chunk.Id, chunk.SourcePath, chunk.Position, chunk.Text, score);
}
