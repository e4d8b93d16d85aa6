using Agentry.Memory;
using Agentry.Tests.Llm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Knowledge;

/// Llm:Embeddings names a provider: the vectors come from it through Semantic Kernel's OpenAI
/// connector, over HTTP to the OpenAI-compatible fake.
public sealed class When_embeddings_come_from_a_provider
{
    private OpenAiFake _fake = null!;

    [SetUp]
    public void StartFake() => _fake = OpenAiFake.Start();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    private ServiceProvider Memory(TempFolder folder, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString,
            ["Llm:Providers:local:Kind"] = "openai-compatible",
            ["Llm:Providers:local:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Embeddings:Provider"] = "local",
            ["Llm:Embeddings:Model"] = "fake-embed-8",
            ["Llm:Embeddings:BatchSize"] = "2",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMemory(configuration);
        return services.BuildServiceProvider();
    }

    [Test]
    public async Task Should_embed_chunks_and_queries_through_the_connector_and_record_the_embedder()
    {
        using var folder = new TempFolder();
        await using var provider = Memory(folder);
        var knowledge = provider.GetRequiredService<KnowledgeBase>();
        var root = Path.Combine(folder.Path, "docs");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "a.md"), "Zebras zigzag.");
        File.WriteAllText(Path.Combine(root, "b.md"), "Apples and bananas.");
        File.WriteAllText(Path.Combine(root, "c.md"), "Cats nap.");

        var summary = await knowledge.IngestAsync("acme", "kb", [root], null, CancellationToken.None);
        var found = await knowledge.SearchAsync("acme", "kb", "zigzag zebras", 1, CancellationToken.None);
        var record = await provider.GetRequiredService<IKnowledgeStore>().GetCollectionAsync("acme", "kb", CancellationToken.None);

        Assert.That(summary.Embedder, Is.EqualTo("local:fake-embed-8"));
        Assert.That((record!.Embedder, record.Dimensions), Is.EqualTo(("local:fake-embed-8", 8)));
        Assert.That(_fake.EmbeddingRequests.Select(r => r.Model), Has.All.EqualTo("fake-embed-8"));
        Assert.That(_fake.EmbeddingRequests, Has.Count.EqualTo(4), "one request per file (batches of 2 hold each file's one chunk), and one for the query");
        Assert.That(_fake.EmbeddingRequests[^1].Json.GetProperty("input").ToString(), Does.Contain("zigzag zebras"));
        Assert.That(found.Single().Source, Is.EqualTo("a.md"));
        var chunk = await provider.GetRequiredService<IKnowledgeStore>().GetChunkAsync("acme", "kb", "a.md#0", CancellationToken.None);
        Assert.That(MathF.Sqrt(Vectors.Dot(chunk!.Embedding!, chunk.Embedding!)), Is.EqualTo(1f).Within(1e-5), "stored normalised");
    }

    [Test]
    public async Task Should_refuse_a_collection_built_offline()
    {
        using var folder = new TempFolder();
        var root = Path.Combine(folder.Path, "docs");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "a.md"), "Zebras zigzag.");
        await using (var offlineProvider = OfflineMemory(folder))
        {
            await offlineProvider.GetRequiredService<KnowledgeBase>().IngestAsync("acme", "kb", [root], null, CancellationToken.None);
        }

        await using var provider = Memory(folder);
        var knowledge = provider.GetRequiredService<KnowledgeBase>();

        var ingest = Assert.ThrowsAsync<KnowledgeInputException>(() => knowledge.IngestAsync("acme", "kb", [root], null, CancellationToken.None))!;
        var search = Assert.ThrowsAsync<KnowledgeInputException>(() => knowledge.SearchAsync("acme", "kb", "zebras", 3, CancellationToken.None))!;

        Assert.That(ingest.Message, Does.Contain("built with the embedder agentry-hashed-ngrams-v1-384"));
        Assert.That(search.Message, Does.Contain("this process embeds with local:fake-embed-8"));
        Assert.That(_fake.EmbeddingRequests, Is.Empty, "refused before any text was sent");
    }

    [Test]
    public void Should_stop_at_start_on_an_unknown_provider_or_a_missing_model()
    {
        using var folder = new TempFolder();
        using var unknown = Memory(folder, new() { ["Llm:Embeddings:Provider"] = "nowhere" });
        using var noModel = Memory(folder, new() { ["Llm:Embeddings:Model"] = "" });

        Assert.That(Assert.Throws<InvalidOperationException>(() => unknown.GetRequiredService<ITextEmbedder>())!.Message,
            Does.StartWith("Llm:Embeddings:Provider is 'nowhere', which is not declared under Llm:Providers (declared: local)"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => noModel.GetRequiredService<ITextEmbedder>())!.Message,
            Does.StartWith("Llm:Embeddings:Model is required"));
    }

    private static ServiceProvider OfflineMemory(TempFolder folder)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMemory(configuration);
        return services.BuildServiceProvider();
    }
}
