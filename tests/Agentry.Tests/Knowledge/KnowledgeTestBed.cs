using Agentry.Memory;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Knowledge;

/// A knowledge base on a fresh SQLite file, with the real chunker, embedder and retriever.
public sealed class KnowledgeTestBed : IDisposable
{
    public KnowledgeTestBed(ITextEmbedder? embedder = null, int chunkSize = 1000, int chunkOverlap = 150, TempFolder? folder = null)
    {
        Folder = folder ?? new TempFolder();
        Database = new SqliteMemoryDatabase(Options.Create(new MemoryOptions { SqliteConnectionString = Folder.SqliteConnectionString }));
        Store = new SqliteKnowledgeStore(Database);
        Embedder = embedder ?? new HashingEmbedder();
        Retriever = new HybridRetriever(Store, Embedder);
        Base = new KnowledgeBase(Store, Embedder, Retriever, Options.Create(new KnowledgeOptions { ChunkSize = chunkSize, ChunkOverlap = chunkOverlap }));
    }

    public TempFolder Folder { get; }

    public SqliteMemoryDatabase Database { get; }

    public SqliteKnowledgeStore Store { get; }

    public ITextEmbedder Embedder { get; }

    public HybridRetriever Retriever { get; }

    public KnowledgeBase Base { get; }

    /// Writes the documents under a folder of their own and returns it.
    public string WriteDocuments(IReadOnlyDictionary<string, string> documents, string folderName = "docs")
    {
        var root = Path.Combine(Folder.Path, folderName);
        foreach (var (name, text) in documents)
        {
            var path = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }

        return root;
    }

    public void Dispose()
    {
        Folder.Dispose();
    }
}
