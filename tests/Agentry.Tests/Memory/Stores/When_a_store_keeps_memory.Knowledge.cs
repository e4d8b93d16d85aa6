using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The contract for knowledge collections and chunks, on every backend.
public sealed partial class When_a_store_keeps_memory
{
    private static KnowledgeChunk Chunk(string tenant, string collection, string path, int position, string text, float[]? embedding = null) =>
        new($"{path}#{position}", tenant, collection, path, position, text, embedding);

    [Test]
    public async Task Should_list_a_collection_in_source_order_with_embeddings()
    {
        var collection = $"docs-{Guid.NewGuid():N}";
        await Store.Knowledge.UpsertChunksAsync(
        [
            Chunk("acme", collection, "b.md", 0, "b zero"),
            Chunk("acme", collection, "a.md", 1, "a one", [0.25f, -1.5f, 3.0e-7f]),
            Chunk("acme", collection, "a.md", 0, "a zero"),
        ], None);

        var chunks = await Store.Knowledge.ListChunksAsync("acme", collection, None);
        var one = await Store.Knowledge.GetChunkAsync("acme", collection, "a.md#1", None);

        Assert.That(chunks.Select(c => c.Id), Is.EqualTo(new[] { "a.md#0", "a.md#1", "b.md#0" }));
        Assert.That(chunks[0].Embedding, Is.Null);
        Assert.That(one, Is.Not.Null);
        Assert.That((one!.TenantId, one.Collection, one.SourcePath, one.Position, one.Text), Is.EqualTo(("acme", collection, "a.md", 1, "a one")));
        Assert.That(one.Embedding, Is.EqualTo(new[] { 0.25f, -1.5f, 3.0e-7f }));
        Assert.That(await Store.Knowledge.GetChunkAsync("acme", collection, "missing", None), Is.Null);
    }

    [Test]
    public async Task Should_replace_a_chunk_that_is_upserted_again()
    {
        var collection = $"docs-{Guid.NewGuid():N}";
        await Store.Knowledge.UpsertChunksAsync([Chunk("acme", collection, "a.md", 0, "old", [1f])], None);
        await Store.Knowledge.UpsertChunksAsync([Chunk("acme", collection, "a.md", 0, "new")], None);
        await Store.Knowledge.UpsertChunksAsync([], None);

        var chunks = await Store.Knowledge.ListChunksAsync("acme", collection, None);

        Assert.That(chunks.Select(c => (c.Text, c.Embedding)), Is.EqualTo(new[] { ("new", (float[]?)null) }));
    }

    [Test]
    public async Task Should_delete_a_collection_and_nothing_else()
    {
        var (gone, kept) = ($"gone-{Guid.NewGuid():N}", $"kept-{Guid.NewGuid():N}");
        await Store.Knowledge.UpsertChunksAsync(
        [
            Chunk("acme", gone, "a.md", 0, "x"), Chunk("acme", gone, "a.md", 1, "y"),
            Chunk("acme", kept, "a.md", 0, "x"), Chunk("globex", gone, "a.md", 0, "x"),
        ], None);

        Assert.That(await Store.Knowledge.DeleteCollectionAsync("acme", gone, None), Is.EqualTo(2));
        Assert.That(await Store.Knowledge.ListChunksAsync("acme", gone, None), Is.Empty);
        Assert.That(await Store.Knowledge.ListChunksAsync("acme", kept, None), Has.Count.EqualTo(1));
        Assert.That(await Store.Knowledge.ListChunksAsync("globex", gone, None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_find_chunks_by_shared_words_and_only_in_the_tenants_collection()
    {
        var collection = $"docs-{Guid.NewGuid():N}";
        await Store.Knowledge.UpsertChunksAsync(
        [
            Chunk("acme", collection, "refunds.md", 0, "Refunds are paid within 14 days."),
            Chunk("acme", collection, "refunds.md", 1, "A refund (partial or full) needs the order number and the receipt."),
            Chunk("acme", collection, "shipping.md", 0, "Orders ship in 2 days."),
            Chunk("globex", collection, "refunds.md", 0, "Globex refund order receipt policy."),
        ], None);

        var found = await Store.Knowledge.SearchChunksAsync("acme", collection, "refund ORDER receipt", 2, None);

        Assert.That(found.Select(c => c.Id), Is.EqualTo(new[] { "refunds.md#1" }), "whole words only: 'Refunds' and 'Orders' are not 'refund' and 'order'");
        Assert.That(found.Single().TenantId, Is.EqualTo("acme"));
        Assert.That(await Store.Knowledge.SearchChunksAsync("initech", collection, "refund", 5, None), Is.Empty);
        Assert.That(await Store.Knowledge.GetChunkAsync("globex", collection, "refunds.md#1", None), Is.Null);
    }

    [Test]
    public async Task Should_keep_the_first_embedder_of_a_collection_and_change_only_its_version()
    {
        var collection = $"docs-{Guid.NewGuid():N}";
        var first = await Store.Knowledge.EnsureCollectionAsync(new KnowledgeCollection("acme", collection, "offline-a", 512, "v1"), None);
        var second = await Store.Knowledge.EnsureCollectionAsync(new KnowledgeCollection("acme", collection, "provider-b", 1536, "v2"), None);
        await Store.Knowledge.SetCollectionVersionAsync("acme", collection, "v3", None);

        Assert.That((first.Embedder, first.Dimensions, first.Version), Is.EqualTo(("offline-a", 512, "v1")));
        Assert.That((second.Embedder, second.Dimensions, second.Version), Is.EqualTo(("offline-a", 512, "v1")), "the existing record wins");
        Assert.That((await Store.Knowledge.GetCollectionAsync("acme", collection, None))!.Version, Is.EqualTo("v3"));
        Assert.That(await Store.Knowledge.GetCollectionAsync("globex", collection, None), Is.Null);
    }

    [Test]
    public async Task Should_list_a_tenants_collections_with_their_chunk_counts_and_forget_a_deleted_one()
    {
        var (a, b) = ($"a-{Guid.NewGuid():N}", $"b-{Guid.NewGuid():N}");
        var tenant = $"t-{Guid.NewGuid():N}";
        await Store.Knowledge.EnsureCollectionAsync(new KnowledgeCollection(tenant, b, "offline", 4, "1"), None);
        await Store.Knowledge.EnsureCollectionAsync(new KnowledgeCollection(tenant, a, "offline", 4, "1"), None);
        await Store.Knowledge.UpsertChunksAsync([Chunk(tenant, a, "x.md", 0, "x"), Chunk(tenant, a, "x.md", 1, "y"), Chunk(tenant, b, "x.md", 0, "z")], None);

        var listed = await Store.Knowledge.ListCollectionsAsync(tenant, None);
        await Store.Knowledge.DeleteCollectionAsync(tenant, a, None);

        Assert.That(listed.Select(c => (c.Name, c.Chunks)), Is.EqualTo(new[] { (a, 2), (b, 1) }));
        Assert.That((await Store.Knowledge.ListCollectionsAsync(tenant, None)).Select(c => c.Name), Is.EqualTo(new[] { b }));
        Assert.That(await Store.Knowledge.GetCollectionAsync(tenant, a, None), Is.Null);
        Assert.That(await Store.Knowledge.ListCollectionsAsync("nobody", None), Is.Empty);
    }

    [Test]
    public async Task Should_delete_one_sources_chunks_only()
    {
        var collection = $"docs-{Guid.NewGuid():N}";
        await Store.Knowledge.UpsertChunksAsync(
            [Chunk("acme", collection, "a.md", 0, "x"), Chunk("acme", collection, "a.md", 1, "y"), Chunk("acme", collection, "b.md", 0, "z"), Chunk("globex", collection, "a.md", 0, "x")], None);

        Assert.That(await Store.Knowledge.DeleteSourceAsync("acme", collection, "a.md", None), Is.EqualTo(2));
        Assert.That((await Store.Knowledge.ListChunksAsync("acme", collection, None)).Select(c => c.Id), Is.EqualTo(new[] { "b.md#0" }));
        Assert.That(await Store.Knowledge.ListChunksAsync("globex", collection, None), Has.Count.EqualTo(1));
    }
}
