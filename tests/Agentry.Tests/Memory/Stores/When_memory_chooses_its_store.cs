using Agentry.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Memory;

/// A `mongodb` connection string selects MongoDB for every store; none keeps them in SQLite.
public sealed class When_memory_chooses_its_store
{
    private static ServiceProvider Build(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMemory(configuration);
        return services.BuildServiceProvider();
    }

    [Test]
    public void Should_keep_everything_in_one_sqlite_database_without_a_mongodb_connection_string()
    {
        using var folder = new TempFolder();
        using var provider = Build(("ConnectionStrings:sqlite", folder.SqliteConnectionString));

        var database = provider.GetRequiredService<SqliteMemoryDatabase>();

        Assert.That(provider.GetRequiredService<ITranscriptStore>(), Is.InstanceOf<SqliteTranscriptStore>().With.Property(nameof(SqliteTranscriptStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IApprovalStore>(), Is.InstanceOf<SqliteApprovalStore>().With.Property(nameof(SqliteApprovalStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<ISummaryStore>(), Is.InstanceOf<SqliteSummaryStore>().With.Property(nameof(SqliteSummaryStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IMemoryItemStore>(), Is.InstanceOf<SqliteMemoryItemStore>().With.Property(nameof(SqliteMemoryItemStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IKnowledgeStore>(), Is.InstanceOf<SqliteKnowledgeStore>().With.Property(nameof(SqliteKnowledgeStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IAuditStore>(), Is.InstanceOf<SqliteAuditStore>().With.Property(nameof(SqliteAuditStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IArtifactStore>(), Is.InstanceOf<SqliteArtifactStore>().With.Property(nameof(SqliteArtifactStore.Database)).SameAs(database));
    }

    [Test]
    public async Task Should_use_mongodb_for_every_store_and_report_it_not_ready_when_it_does_not_answer()
    {
        // Nothing listens on port 1; the short selection timeout keeps the health check quick.
        await using var provider = Build(("ConnectionStrings:mongodb", "mongodb://127.0.0.1:1/tenants_db?serverSelectionTimeoutMS=300"));

        var database = provider.GetRequiredService<MongoMemoryDatabase>();
        Assert.That(database.Database.DatabaseNamespace.DatabaseName, Is.EqualTo("tenants_db"));
        Assert.That(provider.GetRequiredService<ITranscriptStore>(), Is.InstanceOf<MongoTranscriptStore>().With.Property(nameof(MongoTranscriptStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IApprovalStore>(), Is.InstanceOf<MongoApprovalStore>().With.Property(nameof(MongoApprovalStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<ISummaryStore>(), Is.InstanceOf<MongoSummaryStore>().With.Property(nameof(MongoSummaryStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IMemoryItemStore>(), Is.InstanceOf<MongoMemoryItemStore>().With.Property(nameof(MongoMemoryItemStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IKnowledgeStore>(), Is.InstanceOf<MongoKnowledgeStore>().With.Property(nameof(MongoKnowledgeStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IAuditStore>(), Is.InstanceOf<MongoAuditStore>().With.Property(nameof(MongoAuditStore.Database)).SameAs(database));
        Assert.That(provider.GetRequiredService<IArtifactStore>(), Is.InstanceOf<MongoArtifactStore>().With.Property(nameof(MongoArtifactStore.Database)).SameAs(database));

        var registration = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == "mongodb");
        Assert.That(registration.Tags, Does.Contain("ready"));
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "mongodb");
        Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(report.Entries["mongodb"].Description, Does.Contain("tenants_db"));
    }

    [Test]
    public void Should_name_the_setting_when_the_mongodb_connection_string_is_not_one()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(("ConnectionStrings:mongodb", "http://mongodb:27017")));
        Assert.That(error!.Message, Does.Contain("ConnectionStrings:mongodb").And.Contain("mongodb://"));
    }
}
