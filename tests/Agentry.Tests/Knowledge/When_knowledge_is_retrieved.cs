using Agentry.Memory;

namespace Agentry.Tests.Knowledge;

public sealed class When_knowledge_is_retrieved
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static KnowledgeChunk Chunk(int n, string text, float[]? embedding = null) => new($"doc.md#{n}", "acme", "c", "doc.md", n, text, embedding);

    [Test]
    public void Should_rank_by_bm25_rarer_terms_and_shorter_passages_first()
    {
        var index = new KnowledgeIndex(
        [
            Chunk(0, "The office is open on Monday. The office is large."),
            Chunk(1, "Parking permits are issued by the office."),
            Chunk(2, "Parking permits for the office garage are issued by facilities, parking is free at weekends, and the garage closes at midnight on weekdays."),
            Chunk(3, "Lunch is served at noon."),
        ], "v1");

        var ranked = index.Bm25(KnowledgeText.Terms("parking permit office"), 10);

        Assert.That(ranked.Select(r => r.Doc), Is.EqualTo(new[] { 1, 2, 0 }), "'parking' and 'permit' are rarer than 'office'; of the two that have them, the shorter scores higher");
        Assert.That(ranked.Select(r => r.Score), Is.Ordered.Descending);
        Assert.That(index.Bm25(KnowledgeText.Terms("helicopter"), 10), Is.Empty);
    }

    [Test]
    public void Should_fuse_two_rankings_by_reciprocal_rank()
    {
        IReadOnlyList<(int, float)> lexical = [(7, 9.5f), (3, 4.0f), (5, 1.0f)];
        IReadOnlyList<(int, float)> semantic = [(3, 0.9f), (8, 0.8f), (7, 0.1f)];

        var fused = HybridRetriever.Fuse(lexical, semantic).ToList();

        // 3: 1/62 + 1/61; 7: 1/61 + 1/63; 8: 1/62; 5: 1/63.
        Assert.That(fused.Select(f => f.Doc), Is.EqualTo(new[] { 3, 7, 8, 5 }));
        Assert.That(fused[0].Score, Is.EqualTo((1.0 / 62) + (1.0 / 61)).Within(1e-12));
    }

    [Test]
    public async Task Should_find_a_passage_by_meaning_when_it_shares_no_exact_word()
    {
        using var bed = new KnowledgeTestBed();
        var root = bed.WriteDocuments(new Dictionary<string, string>
        {
            ["a.md"] = "Employees are reimbursed for travelling by train.",
            ["b.md"] = "The canteen serves vegetarian dishes every day.",
        });
        await bed.Base.IngestAsync("acme", "kb", [root], null, None);

        // No shared word after stemming ("reimbursement" is not "reimbursed"): only the word pieces of the embedder meet.
        var found = await bed.Retriever.RetrieveAsync("acme", ["kb"], "reimbursement", 1, None);

        Assert.That(found.Single().Source, Is.EqualTo("a.md"));
    }

    [Test]
    public async Task Should_keep_collection_source_and_position_of_every_passage()
    {
        using var bed = new KnowledgeTestBed(chunkSize: 200, chunkOverlap: 40);
        var root = bed.WriteDocuments(new Dictionary<string, string>
        {
            ["guide/setup.md"] = "# Setup\n\n" + string.Join(" ", Enumerable.Repeat("Install the tools first.", 12)) + "\n\nThe licence key is in the welcome email from the sales team.",
            ["faq.txt"] = "Questions and answers about billing.",
            ["image.png"] = "not text",
        });

        var summary = await bed.Base.IngestAsync("acme", "manual", [root], null, None);
        var found = await bed.Base.SearchAsync("acme", "manual", "where is the licence key", 3, None);

        Assert.That(summary.Files, Is.EqualTo(2));
        Assert.That(summary.Skipped, Is.EqualTo(new[] { "image.png: not markdown or text (.md, .markdown, .txt)" }));
        var best = found[0];
        Assert.That((best.Collection, best.Source), Is.EqualTo(("manual", "guide/setup.md")));
        Assert.That(best.Text, Does.Contain("licence key"));
        Assert.That(best.Position, Is.GreaterThan(0));
        Assert.That(best.ChunkId, Is.EqualTo($"guide/setup.md#{best.Position}"));
        var stored = await bed.Store.GetChunkAsync("acme", "manual", best.ChunkId, None);
        Assert.That(stored!.Embedding, Has.Length.EqualTo(384));
    }

    [Test]
    public async Task Should_see_a_reingested_file_at_once_and_forget_its_old_chunks()
    {
        using var bed = new KnowledgeTestBed(chunkSize: 100, chunkOverlap: 20);
        var root = bed.WriteDocuments(new Dictionary<string, string> { ["policy.md"] = string.Join(" ", Enumerable.Repeat("Refunds take fourteen days.", 10)) });
        await bed.Base.IngestAsync("acme", "kb", [root], null, None);
        Assert.That((await bed.Base.SearchAsync("acme", "kb", "refunds", 5, None))[0].Text, Does.Contain("fourteen"));

        File.WriteAllText(Path.Combine(root, "policy.md"), "Refunds take thirty days.");
        await bed.Base.IngestAsync("acme", "kb", [root], null, None);
        var found = await bed.Base.SearchAsync("acme", "kb", "refunds", 5, None);

        Assert.That(found.Select(p => p.Text), Is.EqualTo(new[] { "Refunds take thirty days." }), "the cached index was rebuilt and the old, longer file's chunks are gone");
    }

    [Test]
    public async Task Should_skip_an_empty_file_and_say_so()
    {
        using var bed = new KnowledgeTestBed();
        var root = bed.WriteDocuments(new Dictionary<string, string> { ["empty.md"] = "  \n\n ", ["real.md"] = "Something." });

        var summary = await bed.Base.IngestAsync("acme", "kb", [root], null, None);

        Assert.That((summary.Files, summary.Chunks), Is.EqualTo((1, 1)));
        Assert.That(summary.Skipped, Is.EqualTo(new[] { "empty.md: empty" }));
    }

    [Test]
    public async Task Should_refuse_a_missing_path_a_bad_name_and_an_unknown_collection_with_clear_errors()
    {
        using var bed = new KnowledgeTestBed();

        var missing = Assert.ThrowsAsync<KnowledgeInputException>(() => bed.Base.IngestAsync("acme", "kb", ["/no/such/folder"], null, None))!;
        var badName = Assert.ThrowsAsync<KnowledgeInputException>(() => bed.Base.IngestAsync("acme", "Hand Book", [bed.Folder.Path], null, None))!;
        var unknown = Assert.ThrowsAsync<KnowledgeInputException>(() => bed.Base.SearchAsync("acme", "nothing", "x", 5, None))!;

        Assert.That(missing.Message, Does.StartWith("No file or folder at '/no/such/folder'"));
        Assert.That(badName.Message, Does.StartWith("'Hand Book' is not a valid collection name"));
        Assert.That(unknown.Message, Is.EqualTo("There is no knowledge collection named 'nothing' (there are none yet). Create it with: agentry kb ingest nothing PATH..."));
    }

    [Test]
    public async Task Should_refuse_to_mix_embedders_in_one_collection()
    {
        using var bed = new KnowledgeTestBed();
        var root = bed.WriteDocuments(new Dictionary<string, string> { ["a.md"] = "Alpha." });
        await bed.Base.IngestAsync("acme", "kb", [root], null, None);
        var other = new KnowledgeBase(bed.Store, new HashingEmbedder(512), new HybridRetriever(bed.Store, new HashingEmbedder(512)), Microsoft.Extensions.Options.Options.Create(new KnowledgeOptions()));

        var ingest = Assert.ThrowsAsync<KnowledgeInputException>(() => other.IngestAsync("acme", "kb", [root], null, None))!;
        var search = Assert.ThrowsAsync<EmbedderMismatchException>(() => new HybridRetriever(bed.Store, new HashingEmbedder(512)).RetrieveAsync("acme", ["kb"], "alpha", 3, None))!;

        Assert.That(ingest.Message, Does.StartWith("The knowledge collection 'kb' was built with the embedder agentry-hashed-ngrams-v1-384 (384 dimensions); this ingest embeds with a different one."));
        Assert.That(search.Message, Does.Contain("agentry-hashed-ngrams-v1-384").And.Contain("agentry-hashed-ngrams-v1-512").And.Contain("agentry kb delete kb"));
        Assert.That((await bed.Store.ListChunksAsync("acme", "kb", None)).Single().Embedding, Has.Length.EqualTo(384), "nothing of the refused ingest was written");
    }

    [Test]
    public async Task Should_search_only_the_tenants_collections()
    {
        using var bed = new KnowledgeTestBed();
        var root = bed.WriteDocuments(new Dictionary<string, string> { ["a.md"] = "The secret code is 1234." });
        await bed.Base.IngestAsync("acme", "kb", [root], null, None);

        Assert.That(await bed.Retriever.RetrieveAsync("globex", ["kb"], "secret code", 5, None), Is.Empty);
        Assert.That(await bed.Retriever.RetrieveAsync("acme", ["kb"], "secret code", 5, None), Has.Count.EqualTo(1));
    }

    [TestCase(3)]
    [TestCase(384)]
    [TestCase(1537)]
    public void Should_score_quantised_vectors_close_to_their_exact_cosine(int dimensions)
    {
        var random = new Random(dimensions);
        float[] Unit() => Vectors.Normalize(Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        var (a, b) = (Unit(), Unit());
        var (qa, qb) = (new sbyte[dimensions], new sbyte[dimensions]);

        var (sa, sb) = (KnowledgeIndex.Quantize(a, qa), KnowledgeIndex.Quantize(b, qb));
        var exact = Vectors.Dot(a, b);
        var quantised = KnowledgeIndex.DotInt8(qa, qb) * sa * sb;

        Assert.That(KnowledgeIndex.DotInt8(qa, qb), Is.EqualTo(qa.Zip(qb, (x, y) => x * y).Sum()), "the vectorised sum equals the plain one, tail included");
        Assert.That(quantised, Is.EqualTo(exact).Within(0.02));
        Assert.That(KnowledgeIndex.DotInt8(qa, qa) * sa * sa, Is.EqualTo(1f).Within(0.02));
    }

    [Test]
    public void Should_find_each_stored_vector_nearest_to_itself()
    {
        var embedder = new HashingEmbedder();
        var texts = new[] { "green tea brewing", "bicycle chain oil", "compost heap greens", "chess opening centre", "wine storage cellar" };
        var index = new KnowledgeIndex(texts.Select((t, n) => Chunk(n, t, embedder.Embed(t))).ToList(), "v1");

        Assert.That(texts.Select(t => index.Nearest(embedder.Embed(t), 1).Single().Doc), Is.EqualTo(Enumerable.Range(0, texts.Length)));
    }
}
