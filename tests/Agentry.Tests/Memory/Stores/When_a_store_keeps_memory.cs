using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The store contract: every backend (SQLite always, MongoDB where one is reachable) keeps
/// transcripts, memory items and knowledge chunks the same way, per tenant.
[TestFixtureSource(typeof(StoreBackend), nameof(StoreBackend.All))]
public sealed partial class When_a_store_keeps_memory(StoreBackend backend)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset At = new(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);
    private StoreUnderTest? _opened;
    private string? _notRun;

    // Every test reaches the store through here, so a backend that cannot run here makes each test
    // skipped with the reason (Ignore: the test summary counts it as skipped; Inconclusive it omits), never a pass.
    private StoreUnderTest Store => _opened ?? throw new IgnoreException(_notRun ?? "the store was not opened");

    [OneTimeSetUp]
    public async Task Open()
    {
        var (store, notRun) = await backend.OpenAsync();
        (_opened, _notRun) = (store, notRun);
    }

    [OneTimeTearDown]
    public async Task Close()
    {
        if (_opened is not null)
        {
            await _opened.DisposeAsync();
        }
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static StepPlanned Step(Guid run, string tenant, int step, string thought, decimal cost = 0.001m) =>
        new(run, tenant, "assistant", step, 8, thought, [new ToolCall($"c{step}", "calculator", Json("""{"expression":"6 * 7"}"""))], null, new TokenUsage(10 * step, step), "m", Cost: cost);

    private static ToolResult Result(Guid run, string tenant, int step, params string[] outputs) =>
        new(run, tenant, "assistant", step, 8, outputs.Select((output, i) => new ToolOutcome($"c{step}-{i}", "calculator", Json("{}"), output, ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5))).ToList());

    [Test]
    public async Task Should_give_back_a_run_with_its_steps_and_outcomes_in_order()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "$compute 6 * 7", """{"x":1}""", At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 2, "second", 0.0000123456789m), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a", "b", "c"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Continue, "not yet", 0.5), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Completed", "42", null, 2, new TokenUsage(30, 3), At.AddMinutes(1), 0.1000000000001m), None);

        var view = await transcripts.GetAsync("acme", run, None);

        Assert.That(view.Found, Is.True);
        Assert.That((view.TenantId, view.Goal, view.Status, view.Answer, view.TotalCost), Is.EqualTo(("acme", "$compute 6 * 7", "Completed", "42", (decimal?)0.1000000000001m)));
        Assert.That(view.Usage, Is.EqualTo(new TokenUsage(30, 3)));
        Assert.That(view.Steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(view.Steps[0].Outcomes.Select(o => o.Output), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(view.Steps[0].Verdict, Is.EqualTo(Verdict.Continue));
        Assert.That(view.Steps[0].ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(view.Steps[1].Cost, Is.EqualTo(0.0000123456789m));
        Assert.That(view.Steps[1].Usage, Is.EqualTo(new TokenUsage(20, 2)));
    }

    [Test]
    public async Task Should_keep_one_record_when_each_event_is_delivered_twice()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a, again"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "a different goal", null, At.AddSeconds(5)), None);

        var view = await transcripts.GetAsync(run, None);

        Assert.That(view.Goal, Is.EqualTo("goal"));
        Assert.That(view.Steps, Has.Count.EqualTo(1));
        Assert.That(view.Steps[0].Outcomes.Select(o => o.Output), Is.EqualTo(new[] { "a" }), "the first delivery of a call's outcome is the one kept");
        Assert.That(view.Steps[0].Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(view.Steps[0].Thought, Is.EqualTo("first"));
    }

    [Test]
    public async Task Should_record_a_persons_guidance_once_and_show_the_escalated_run_running_again()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Escalate, "loop", 1), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Escalated", null, "loop", 1, new TokenUsage(10, 1), At), None);

        await transcripts.RecordGuidanceAsync(run, "acme", 1, new Guidance("Use the cached total.", "alice"), None);
        await transcripts.RecordGuidanceAsync(run, "acme", 1, new Guidance("redelivered, or someone later", "bob"), None);

        var view = await transcripts.GetAsync("acme", run, None);
        Assert.That((view.Status, view.Reason, view.Usage), Is.EqualTo(("Running", (string?)null, (TokenUsage?)null)), "resumed: no longer ended");
        Assert.That(view.Steps.Single().Guidance, Is.EqualTo(new Guidance("Use the cached total.", "alice")));
        Assert.That(view.Steps.Single().Thought, Is.EqualTo("first"), "the step's record is kept");

        // Guidance arriving for a step not recorded yet, and for a run that has ended since: the step
        // gets it, and the ended run stays ended.
        await transcripts.RecordGuidanceAsync(run, "acme", 2, new Guidance("second", "alice"), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 2, "planned after"), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Completed", "42", null, 3, new TokenUsage(30, 3), At), None);
        await transcripts.RecordGuidanceAsync(run, "acme", 2, new Guidance("late duplicate", "alice"), None);
        view = await transcripts.GetAsync(run, None);
        Assert.That(view.Status, Is.EqualTo("Completed"));
        Assert.That((view.Steps[1].Thought, view.Steps[1].Guidance?.Text), Is.EqualTo(("planned after", "second")));
    }

    [Test]
    public async Task Should_keep_the_end_of_a_run_whose_start_arrives_after_it()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Failed", null, "limit", 1, new TokenUsage(1, 1), At), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);

        var view = await transcripts.GetAsync(run, None);

        Assert.That((view.Status, view.Reason, view.Goal), Is.EqualTo(("Failed", "limit", "goal")));
        Assert.That(view.Steps.Single().Usage, Is.Null, "a step known only from its verdict was never planned here");
    }

    [Test]
    public async Task Should_not_show_a_run_to_another_tenant()
    {
        var run = Guid.NewGuid();
        await Store.Transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await Store.Transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);

        Assert.That((await Store.Transcripts.GetAsync("globex", run, None)).Found, Is.False);
        Assert.That((await Store.Transcripts.GetAsync("acme", run, None)).Steps, Has.Count.EqualTo(1));
        Assert.That((await Store.Transcripts.GetAsync(run, None)).TenantId, Is.EqualTo("acme"), "a read by run id alone still finds the run");
        Assert.That((await Store.Transcripts.GetAsync(Guid.NewGuid(), None)).Found, Is.False);
    }

    private static ApprovalRequested Approval(Guid run, string tenant, int step, params string[] callIds) =>
        new(run, tenant, "clerk", step, [.. callIds.Select(id => new ToolCall(id, "http_post", Json("""{"url":"https://shop.example.com/refunds","body":{"order":42}}""")))],
            At.AddMinutes(30), "Deny", "Refund it", "Refund order 42");

    [Test]
    public async Task Should_list_a_tenants_waiting_calls_until_each_is_decided_once()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var (transcripts, approvals) = (Store.Transcripts, Store.Approvals);
        foreach (var run in new[] { first, second })
        {
            await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);
        }

        await approvals.RecordApprovalRequestedAsync(Approval(second, tenant, 2, "c-b"), At.AddMinutes(2), None);
        await approvals.RecordApprovalRequestedAsync(Approval(first, tenant, 1, "c-a1", "c-a2"), At.AddMinutes(1), None);
        await approvals.RecordApprovalRequestedAsync(Approval(first, tenant, 1, "c-a1", "c-a2"), At.AddMinutes(3), None);

        var pending = await approvals.PendingApprovalsAsync(tenant, None);
        Assert.That(pending.Select(a => a.CallId), Is.EqualTo(new[] { "c-a1", "c-a2", "c-b" }), "oldest first, a redelivered request once");
        var one = pending[0];
        Assert.That((one.RunId, one.TenantId, one.Agent, one.Step, one.Tool, one.RequestedAt, one.ExpiresAt, one.Approved),
            Is.EqualTo((first, tenant, "clerk", 1, "http_post", At.AddMinutes(1), At.AddMinutes(30), (bool?)null)));
        Assert.That(one.Arguments.GetProperty("body").GetProperty("order").GetInt32(), Is.EqualTo(42));
        Assert.That(await approvals.PendingApprovalsAsync($"other-{tenant}", None), Is.Empty, "another tenant saw the calls");

        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(first, tenant, 1, "c-a1", false, "alice", "not for this customer"), At.AddMinutes(4), None);
        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(first, tenant, 1, "c-a1", true, "mallory"), At.AddMinutes(5), None);

        Assert.That((await approvals.PendingApprovalsAsync(tenant, None)).Select(a => a.CallId), Is.EqualTo(new[] { "c-a2", "c-b" }));
        var view = await transcripts.GetAsync(tenant, first, None);
        Assert.That(view.Approvals!.Select(a => (a.CallId, a.Approved, a.DecidedBy, a.Comment, a.DecidedAt)), Is.EqualTo(new[]
        {
            ("c-a1", (bool?)false, (string?)"alice", (string?)"not for this customer", (DateTimeOffset?)At.AddMinutes(4)),
            ("c-a2", null, null, null, null),
        }), "a second decision replaced the first");
    }

    [Test]
    public async Task Should_keep_a_decision_that_arrives_before_its_request_and_drop_calls_of_ended_runs()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var (decidedEarly, ended) = (Guid.NewGuid(), Guid.NewGuid());
        var (transcripts, approvals) = (Store.Transcripts, Store.Approvals);
        await transcripts.StartRunAsync(new RunStart(decidedEarly, tenant, "clerk", "goal", null, At), None);
        await transcripts.StartRunAsync(new RunStart(ended, tenant, "clerk", "goal", null, At), None);

        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(decidedEarly, tenant, 1, "c-1", true, "bob", "fine"), At.AddMinutes(1), None);
        Assert.That((await transcripts.GetAsync(decidedEarly, None)).Approvals, Is.Null, "a decision alone is not shown as an approval");
        await approvals.RecordApprovalRequestedAsync(Approval(decidedEarly, tenant, 1, "c-1"), At, None);
        await approvals.RecordApprovalRequestedAsync(Approval(ended, tenant, 1, "c-2"), At, None);
        await transcripts.EndRunAsync(new RunEnd(ended, tenant, "clerk", "Cancelled", null, "stopped", 1, new TokenUsage(1, 1), At.AddMinutes(2)), None);

        Assert.That(await approvals.PendingApprovalsAsync(tenant, None), Is.Empty);
        var early = (await transcripts.GetAsync(decidedEarly, None)).Approvals!.Single();
        Assert.That((early.Tool, early.Approved, early.DecidedBy, early.RequestedAt), Is.EqualTo(("http_post", (bool?)true, (string?)"bob", At)));
        Assert.That((await transcripts.GetAsync(ended, None)).Approvals!.Single().Approved, Is.Null, "the record keeps that nobody decided");
    }

    private static MemoryItem Item(string tenant, string user, string text, int minute, MemoryKind kind = MemoryKind.Fact) =>
        new(Guid.NewGuid(), tenant, user, text, kind, Guid.NewGuid(), At.AddMinutes(minute).AddTicks(1234));

    [Test]
    public async Task Should_keep_the_user_a_run_first_named_and_show_it_on_the_run()
    {
        var run = Guid.NewGuid();
        var anonymous = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At, UserId: "ada"), None);
        // A later start without the user (or naming another) leaves the first one, as for the goal.
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At.AddSeconds(1)), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At.AddSeconds(2), UserId: "mallory"), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Completed", "42", null, 1, new TokenUsage(1, 1), At.AddMinutes(1)), None);
        await transcripts.StartRunAsync(new RunStart(anonymous, "acme", "assistant", "goal", null, At), None);

        Assert.That((await transcripts.GetAsync("acme", run, None)).UserId, Is.EqualTo("ada"));
        Assert.That((await transcripts.GetAsync(run, None)).UserId, Is.EqualTo("ada"));
        Assert.That((await transcripts.GetAsync("acme", anonymous, None)).UserId, Is.Null);
    }

    [Test]
    public async Task Should_record_the_user_of_a_run_whose_end_arrived_first()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", "Completed", "42", null, 1, new TokenUsage(1, 1), At.AddMinutes(1)), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At, UserId: "ada"), None);

        var view = await transcripts.GetAsync("acme", run, None);

        Assert.That((view.UserId, view.Status), Is.EqualTo(("ada", "Completed")));
    }

    [Test]
    public async Task Should_list_a_users_items_oldest_first_and_add_each_only_once()
    {
        var user = Guid.NewGuid().ToString();
        var later = Item("acme", user, "Prefers answers in French", 5, MemoryKind.Preference);
        var earlier = Item("acme", user, "Works at the Lyon office", 1) with { SourceRunId = null };
        await Store.Items.AddItemAsync(later, None);
        await Store.Items.AddItemAsync(earlier, None);
        await Store.Items.AddItemAsync(later with { Text = "redelivered" }, None);

        var items = await Store.Items.ListItemsAsync("acme", user, None);

        Assert.That(items, Is.EqualTo(new[] { earlier, later }));
    }

    [Test]
    public async Task Should_delete_one_item_then_all_of_a_users_items()
    {
        var user = Guid.NewGuid().ToString();
        var (a, b, c) = (Item("acme", user, "a", 1), Item("acme", user, "b", 2), Item("acme", user, "c", 3));
        var otherUser = Item("acme", "someone-else", "kept", 1);
        foreach (var item in new[] { a, b, c, otherUser })
        {
            await Store.Items.AddItemAsync(item, None);
        }

        Assert.That(await Store.Items.DeleteItemAsync("acme", user, b.Id, None), Is.True);
        Assert.That(await Store.Items.DeleteItemAsync("acme", user, b.Id, None), Is.False);
        Assert.That(await Store.Items.DeleteItemAsync("acme", user, otherUser.Id, None), Is.False, "an item is deleted only through its own user");
        Assert.That((await Store.Items.ListItemsAsync("acme", user, None)).Select(i => i.Text), Is.EqualTo(new[] { "a", "c" }));

        Assert.That(await Store.Items.DeleteItemsAsync("acme", user, None), Is.EqualTo(2));
        Assert.That(await Store.Items.ListItemsAsync("acme", user, None), Is.Empty);
        Assert.That(await Store.Items.ListItemsAsync("acme", "someone-else", None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_find_a_users_items_by_shared_words_best_first()
    {
        var user = Guid.NewGuid().ToString();
        await Store.Items.AddItemAsync(Item("acme", user, "Likes green tea in the morning", 1), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Drinks TEA, never coffee", 2), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Owns a steam engine", 3), None);
        await Store.Items.AddItemAsync(Item("acme", user, "Green is the favourite colour", 4), None);

        var found = await Store.Items.SearchItemsAsync("acme", user, "green tea?", 10, None);
        var top = await Store.Items.SearchItemsAsync("acme", user, "tea", 1, None);

        Assert.That(found.Select(i => i.Text), Is.EqualTo(new[] { "Likes green tea in the morning", "Green is the favourite colour", "Drinks TEA, never coffee" }),
            "two shared words first, then one, newest first; 'steam' contains 'tea' but not as a word");
        Assert.That(top.Select(i => i.Text), Is.EqualTo(new[] { "Drinks TEA, never coffee" }));
        Assert.That(await Store.Items.SearchItemsAsync("acme", user, "  ?! ", 10, None), Is.Empty);
    }

    [Test]
    public async Task Should_keep_one_tenants_items_from_another_with_the_same_user()
    {
        var user = Guid.NewGuid().ToString();
        var acme = Item("acme", user, "secret plan for tea", 1);
        await Store.Items.AddItemAsync(acme, None);

        Assert.That(await Store.Items.ListItemsAsync("globex", user, None), Is.Empty);
        Assert.That(await Store.Items.SearchItemsAsync("globex", user, "tea", 10, None), Is.Empty);
        Assert.That(await Store.Items.DeleteItemAsync("globex", user, acme.Id, None), Is.False);
        Assert.That(await Store.Items.DeleteItemsAsync("globex", user, None), Is.EqualTo(0));
        Assert.That(await Store.Items.ListItemsAsync("acme", user, None), Is.EqualTo(new[] { acme }));
    }

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
