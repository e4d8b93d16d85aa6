using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Agentry.Memory;

/// Memory:Knowledge: how documents are cut up.
public sealed class KnowledgeOptions
{
    public const string Section = "Memory:Knowledge";

    /// Characters per chunk (about 4 per English token).
    public int ChunkSize { get; set; } = 1000;

    /// Characters each chunk repeats from the end of the one before.
    public int ChunkOverlap { get; set; } = 150;
}

/// Something the user gave that cannot be ingested or searched: a missing path, a bad collection
/// name, a collection built by another embedder. The CLI turns it into exit code 2.
public sealed class KnowledgeInputException(string message) : Exception(message);

public sealed record IngestProgress(string Source, int Chunks, int FilesDone, int FilesTotal);

public sealed record IngestSummary(string Collection, int Files, int Chunks, long Bytes, TimeSpan Elapsed, IReadOnlyList<string> Skipped, string Embedder);

/// The knowledge base of a tenant: ingesting files into collections, searching, listing, deleting.
/// The CLI and the Memory service use it alike; it writes through IKnowledgeStore, so SQLite or
/// MongoDB as configured.
public sealed partial class KnowledgeBase(IKnowledgeStore store, ITextEmbedder embedder, IKnowledgeRetriever retriever, IOptions<KnowledgeOptions> options)
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".md", ".markdown", ".txt" };

    private const int UpsertBatch = 256;

    public string EmbedderName => embedder.Name;

    /// Ingests files and folders (recursively) into the collection. A source already in the collection
    /// is replaced whole. Each source's path is relative to the folder given (a file given alone: its
    /// name), with forward slashes, so that citations read the same on every machine.
    public async Task<IngestSummary> IngestAsync(
        string tenantId, string collection, IReadOnlyList<string> paths, IProgress<IngestProgress>? progress, CancellationToken cancellationToken)
    {
        CheckName(collection);
        if (paths.Count == 0)
        {
            throw new KnowledgeInputException("No path given: name the files or folders to ingest.");
        }

        var started = Stopwatch.StartNew();
        var skipped = new List<string>();
        var files = Gather(paths, skipped);
        if (await store.GetCollectionAsync(tenantId, collection, cancellationToken) is { } existing && existing.Embedder != embedder.Name)
        {
            throw MixedEmbedders(collection, existing.Embedder, existing.Dimensions);
        }

        var (chunkSize, overlap) = (options.Value.ChunkSize, options.Value.ChunkOverlap);
        if (chunkSize < 50 || overlap < 0 || overlap >= chunkSize / 2)
        {
            throw new KnowledgeInputException($"{KnowledgeOptions.Section}: ChunkSize must be at least 50 and ChunkOverlap from 0 to less than half of it (are {chunkSize} and {overlap}).");
        }

        var (ingested, chunkCount, bytes) = (0, 0, 0L);
        var recorded = false;
        for (var i = 0; i < files.Count; i++)
        {
            var (fullPath, source) = files[i];
            var text = await File.ReadAllTextAsync(fullPath, Encoding.UTF8, cancellationToken);
            var pieces = TextChunker.Chunk(text, chunkSize, overlap);
            if (pieces.Count == 0)
            {
                await store.DeleteSourceAsync(tenantId, collection, source, cancellationToken);
                skipped.Add($"{source}: empty");
                progress?.Report(new IngestProgress(source, 0, i + 1, files.Count));
                continue;
            }

            var vectors = await embedder.EmbedAsync(pieces.Select(p => p.Text).ToList(), cancellationToken);
            if (!recorded)
            {
                // Recorded with the first vectors, whose length is the embedder's dimensions.
                var record = await store.EnsureCollectionAsync(new KnowledgeCollection(tenantId, collection, embedder.Name, vectors[0].Length, NewVersion()), cancellationToken);
                if (record.Embedder != embedder.Name || record.Dimensions != vectors[0].Length)
                {
                    throw MixedEmbedders(collection, record.Embedder, record.Dimensions);
                }

                recorded = true;
            }

            await store.DeleteSourceAsync(tenantId, collection, source, cancellationToken);
            var chunks = pieces.Select((p, n) => new KnowledgeChunk($"{source}#{p.Position}", tenantId, collection, source, p.Position, p.Text, vectors[n])).ToList();
            foreach (var batch in chunks.Chunk(UpsertBatch))
            {
                await store.UpsertChunksAsync(batch, cancellationToken);
            }

            ingested++;
            chunkCount += chunks.Count;
            bytes += Encoding.UTF8.GetByteCount(text);
            progress?.Report(new IngestProgress(source, chunks.Count, i + 1, files.Count));
        }

        if (recorded)
        {
            // The new version makes every reader's cached index stale, in this process and others.
            await store.SetCollectionVersionAsync(tenantId, collection, NewVersion(), cancellationToken);
        }

        return new IngestSummary(collection, ingested, chunkCount, bytes, started.Elapsed, skipped, embedder.Name);
    }

    public async Task<IReadOnlyList<RetrievedPassage>> SearchAsync(string tenantId, string collection, string query, int limit, CancellationToken cancellationToken)
    {
        CheckName(collection);
        if (string.IsNullOrWhiteSpace(query))
        {
            throw new KnowledgeInputException("The query is empty: say what to look for.");
        }

        if (await store.GetCollectionAsync(tenantId, collection, cancellationToken) is null)
        {
            throw new KnowledgeInputException(Unknown(collection, await store.ListCollectionsAsync(tenantId, cancellationToken)));
        }

        try
        {
            return await retriever.RetrieveAsync(tenantId, [collection], query, limit, cancellationToken);
        }
        catch (EmbedderMismatchException e)
        {
            throw new KnowledgeInputException(e.Message);
        }
    }

    public Task<IReadOnlyList<KnowledgeCollection>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        store.ListCollectionsAsync(tenantId, cancellationToken);

    /// How many chunks went; throws when there was no such collection.
    public async Task<int> DeleteAsync(string tenantId, string collection, CancellationToken cancellationToken)
    {
        CheckName(collection);
        if (await store.GetCollectionAsync(tenantId, collection, cancellationToken) is null)
        {
            throw new KnowledgeInputException(Unknown(collection, await store.ListCollectionsAsync(tenantId, cancellationToken)));
        }

        var deleted = await store.DeleteCollectionAsync(tenantId, collection, cancellationToken);
        (retriever as HybridRetriever)?.Invalidate(tenantId, collection);
        return deleted;
    }

    public static string Unknown(string collection, IReadOnlyList<KnowledgeCollection> known) =>
        $"There is no knowledge collection named '{collection}'"
        + (known.Count == 0 ? " (there are none yet)" : $" (there are: {string.Join(", ", known.Select(c => c.Name))})")
        + $". Create it with: agentry kb ingest {collection} PATH...";

    public static void CheckName(string collection)
    {
        if (!CollectionName().IsMatch(collection ?? ""))
        {
            throw new KnowledgeInputException($"'{collection}' is not a valid collection name: use 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit (as in an agent's memory.knowledge).");
        }
    }

    private static KnowledgeInputException MixedEmbedders(string collection, string built, int dimensions) => new(
        $"The knowledge collection '{collection}' was built with the embedder {built} ({dimensions} dimensions); this ingest embeds with a different one. "
        + "One collection holds vectors of one embedder only: ingest into another collection, configure the same embedder again (Llm:Embeddings), "
        + $"or delete it first (agentry kb delete {collection}).");

    private static string NewVersion() => Guid.NewGuid().ToString("N");

    private static List<(string FullPath, string Source)> Gather(IReadOnlyList<string> paths, List<string> skipped)
    {
        var files = new List<(string FullPath, string Source)>();
        foreach (var path in paths)
        {
            var full = Path.GetFullPath(path);
            if (File.Exists(full))
            {
                Add(full, Path.GetFileName(full));
            }
            else if (Directory.Exists(full))
            {
                foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    Add(file, Path.GetRelativePath(full, file).Replace(Path.DirectorySeparatorChar, '/'));
                }
            }
            else
            {
                throw new KnowledgeInputException($"No file or folder at '{path}' (looked for {full}).");
            }
        }

        var twice = files.GroupBy(f => f.Source, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new KnowledgeInputException(
                $"Two files would both be cited as '{twice.Key}' ({string.Join(" and ", twice.Select(f => f.FullPath))}): ingest them into separate collections or in separate runs.");
        }

        return files;

        void Add(string full, string source)
        {
            if (Extensions.Contains(Path.GetExtension(full)))
            {
                files.Add((full, source));
            }
            else
            {
                skipped.Add($"{source}: not markdown or text ({string.Join(", ", Extensions)})");
            }
        }
    }

    // The same rule as memory.knowledge in agent definitions, so that every collection can be named there.
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex CollectionName();
}
