using Agentry.Contracts;
using Agentry.Memory;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// The audit trail over the harness bus: Memory's consumers, as AddMemoryConsumers registers them,
/// keep what is published and answer GetAuditTrail from the real SQLite store.
public sealed class When_memory_keeps_the_audit_trail : HarnessFixture
{
    private TempFolder _folder = null!;

    protected override void ConfigureServices(IServiceCollection services)
    {
        _folder = new TempFolder();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString })
            .Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddMemoryConsumers();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private async Task<IReadOnlyList<AuditRecorded>> Trail(GetAuditTrail query) =>
        (await Harness.GetRequestClient<GetAuditTrail>().GetResponse<AuditTrail>(query)).Message.Entries;

    [Test]
    public async Task Should_keep_each_published_AuditRecorded_once_and_answer_GetAuditTrail_newest_first()
    {
        var run = NewId.NextGuid();
        var now = Clock.GetUtcNow();
        var approved = new AuditRecorded(NewId.NextGuid(), "acme", now, "alice (key ak_3f2a...)", "approval.approved", "203.0.113.7", run, "call_1_1", "fine by me");
        var cancelled = new AuditRecorded(NewId.NextGuid(), "acme", now.AddMinutes(1), "jwt:bob", "run.cancelled", "cli", run);
        var revoked = new AuditRecorded(NewId.NextGuid(), "acme", now.AddMinutes(2), "jwt:bob", "key.revoked", "cli", Target: "ak_3f2a");
        var elsewhere = new AuditRecorded(NewId.NextGuid(), "globex", now.AddMinutes(3), "jwt:eve", "run.resumed", "198.51.100.9", run);

        foreach (var entry in new[] { approved, cancelled, revoked, approved, elsewhere })
        {
            await Harness.Bus.Publish(entry);
        }

        await Quiet();
        Assert.That(Harness.Consumed.Select<AuditRecorded>().Count(), Is.EqualTo(5));
        Assert.That(Harness.Published.Select<Fault<AuditRecorded>>(), Is.Empty);

        Assert.That(await Trail(new GetAuditTrail("acme")), Is.EqualTo(new[] { revoked, cancelled, approved }), "a redelivered entry once");
        Assert.That(await Trail(new GetAuditTrail("acme", run)), Is.EqualTo(new[] { cancelled, approved }));
        Assert.That(await Trail(new GetAuditTrail("globex", run)), Is.EqualTo(new[] { elsewhere }));
        Assert.That(await Trail(new GetAuditTrail("acme", Limit: 1)), Is.EqualTo(new[] { revoked }));
        Assert.That(await Trail(new GetAuditTrail("acme", Limit: 1, Before: revoked.At)), Is.EqualTo(new[] { cancelled }), "the next page");
        Assert.That(await Trail(new GetAuditTrail("initech")), Is.Empty);
    }
}
