using Agentry.Contracts;

namespace Agentry.Tests.Memory.Stores;

/// The contract for the audit trail, on every backend. Each test has its own tenant: the store is
/// shared by the fixture's tests. The names say AuditRecorded or AuditTrail so that
/// --filter "FullyQualifiedName~Audit" (case-sensitive) picks them.
public sealed partial class When_a_store_keeps_memory
{
    // Ticks below a millisecond: a BSON date would drop them, and the trail must give back the time it was given.
    private static AuditRecorded Entry(string tenant, int minute, string action = "approval.approved", Guid? run = null, string? target = null, string? detail = null) =>
        new(Guid.NewGuid(), tenant, At.AddMinutes(minute).AddTicks(1234), "alice (key ak_3f2a...)", action, "203.0.113.7", run, target, detail);

    private static string NewTenant() => $"acme-{Guid.NewGuid():N}";

    [Test]
    public async Task Should_give_back_the_AuditTrail_newest_first_as_it_was_recorded()
    {
        var tenant = NewTenant();
        var run = Guid.NewGuid();
        var approved = Entry(tenant, 1, "approval.approved", run, "call_1_1", "fine by me");
        var revoked = Entry(tenant, 3, "key.revoked", target: "ak_3f2a") with { Actor = "jwt:ops-admin", Source = "cli" };
        // Taken in another time zone: the same instant, given back in UTC.
        var cancelled = Entry(tenant, 2, "run.cancelled", run) with { At = At.AddMinutes(2).AddTicks(1234).ToOffset(TimeSpan.FromHours(2)) };
        foreach (var entry in new[] { approved, revoked, cancelled })
        {
            await Store.Audit.AppendAsync(entry, None);
        }

        var trail = await Store.Audit.QueryAsync(new GetAuditTrail(tenant), None);

        Assert.That(trail, Is.EqualTo(new[] { revoked, cancelled, approved }));
        Assert.That(trail.Select(e => e.At.Offset), Is.All.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public async Task Should_order_AuditRecorded_entries_of_the_same_instant_by_id()
    {
        var tenant = NewTenant();
        var entries = Enumerable.Range(0, 4).Select(_ => Entry(tenant, 1)).ToList();
        foreach (var entry in entries)
        {
            await Store.Audit.AppendAsync(entry, None);
        }

        var trail = await Store.Audit.QueryAsync(new GetAuditTrail(tenant), None);

        Assert.That(trail.Select(e => e.Id), Is.EqualTo(entries.Select(e => e.Id).OrderByDescending(id => id.ToString(), StringComparer.Ordinal)),
            "both backends break ties the same way, so pages do not shuffle");
    }

    [Test]
    public async Task Should_keep_a_redelivered_AuditRecorded_once()
    {
        var tenant = NewTenant();
        var entry = Entry(tenant, 1, "approval.denied", Guid.NewGuid(), "call_2_1", "not for this customer");
        await Store.Audit.AppendAsync(entry, None);
        await Store.Audit.AppendAsync(entry, None);
        await Store.Audit.AppendAsync(entry with { Detail = "rewritten", At = At.AddMinutes(9) }, None);

        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant), None), Is.EqualTo(new[] { entry }), "the first copy stands");
    }

    [Test]
    public async Task Should_never_show_an_AuditRecorded_entry_to_another_tenant_even_for_the_same_run()
    {
        var (acme, globex) = (NewTenant(), NewTenant());
        var run = Guid.NewGuid();
        var ours = Entry(acme, 1, "run.cancelled", run);
        var theirs = Entry(globex, 2, "run.resumed", run);
        await Store.Audit.AppendAsync(ours, None);
        await Store.Audit.AppendAsync(theirs, None);

        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(acme, run), None), Is.EqualTo(new[] { ours }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(acme), None), Is.EqualTo(new[] { ours }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(globex, run), None), Is.EqualTo(new[] { theirs }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(NewTenant(), run), None), Is.Empty);
    }

    [Test]
    public async Task Should_give_back_only_the_AuditTrail_of_the_run_asked_for()
    {
        var tenant = NewTenant();
        var (run, other) = (Guid.NewGuid(), Guid.NewGuid());
        var entries = new[]
        {
            Entry(tenant, 1, "approval.approved", run, "call_1_1"),
            Entry(tenant, 2, "approval.approved", other, "call_1_1"),
            Entry(tenant, 3, "key.created", target: "ak_9"),
            Entry(tenant, 4, "run.closed", run),
        };
        foreach (var entry in entries)
        {
            await Store.Audit.AppendAsync(entry, None);
        }

        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, run), None), Is.EqualTo(new[] { entries[3], entries[0] }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Guid.NewGuid()), None), Is.Empty);
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant), None), Has.Count.EqualTo(4), "no run: the tenant's whole trail");
    }

    [Test]
    public async Task Should_clamp_the_AuditTrail_limit_to_between_1_and_1000()
    {
        var tenant = NewTenant();
        for (var i = 0; i < 1001; i++)
        {
            await Store.Audit.AppendAsync(Entry(tenant, i), None);
        }

        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: 5000), None), Has.Count.EqualTo(1000));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: 1000), None), Has.Count.EqualTo(1000));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant), None), Has.Count.EqualTo(100), "the default");
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: 7), None), Has.Count.EqualTo(7));
        Assert.That((await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: 0), None)).Select(e => e.At), Is.EqualTo(new[] { At.AddMinutes(1000).AddTicks(1234) }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: -3), None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_page_back_through_the_AuditTrail_with_before()
    {
        var tenant = NewTenant();
        var run = Guid.NewGuid();
        var entries = Enumerable.Range(1, 5).Select(minute => Entry(tenant, minute, run: minute % 2 == 1 ? run : null)).ToList();
        foreach (var entry in entries)
        {
            await Store.Audit.AppendAsync(entry, None);
        }

        var pages = new List<IReadOnlyList<AuditRecorded>>();
        DateTimeOffset? before = null;
        do
        {
            pages.Add(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Limit: 2, Before: before), None));
            before = pages[^1] is [.., var oldest] ? oldest.At : null;
        }
        while (pages[^1].Count > 0);

        Assert.That(pages.Select(page => page.Select(e => entries.IndexOf(e) + 1)), Is.EqualTo(new[] { new[] { 5, 4 }, new[] { 3, 2 }, new[] { 1 }, Array.Empty<int>() }));
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, run, Before: entries[4].At), None), Is.EqualTo(new[] { entries[2], entries[0] }), "with a run too");
        Assert.That(await Store.Audit.QueryAsync(new GetAuditTrail(tenant, Before: entries[2].At.AddTicks(1)), None), Is.EqualTo(new[] { entries[2], entries[1], entries[0] }),
            "strictly before, to the tick");
    }
}
