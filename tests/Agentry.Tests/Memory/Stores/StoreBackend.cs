using Agentry.Memory;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Testcontainers.MongoDb;

namespace Agentry.Tests.Memory.Stores;

/// A database the store contract suite runs against. Each fixture gets its own, empty one.
public abstract class StoreBackend
{
    public abstract string Name { get; }

    /// Opens a fresh store, or says why the backend cannot run here (each test then reports it as
    /// not run, so the count of skipped tests shows it too). Fails where not running is an error.
    public abstract Task<(StoreUnderTest? Store, string? NotRunReason)> OpenAsync();

    public override string ToString() => Name;

    public static IEnumerable<StoreBackend> All() => [new SqliteBackend(), new MongoBackend()];
}

public sealed class StoreUnderTest(
    ITranscriptStore transcripts, IApprovalStore approvals, ISummaryStore summaries, IMemoryItemStore items, IKnowledgeStore knowledge,
    IAuditStore audit, IArtifactStore artifacts, Func<Task> dispose) : IAsyncDisposable
{
    public ITranscriptStore Transcripts { get; } = transcripts;

    public IApprovalStore Approvals { get; } = approvals;

    public ISummaryStore Summaries { get; } = summaries;

    public IMemoryItemStore Items { get; } = items;

    public IKnowledgeStore Knowledge { get; } = knowledge;

    public IAuditStore Audit { get; } = audit;

    public IArtifactStore Artifacts { get; } = artifacts;

    public ValueTask DisposeAsync() => new(dispose());
}

public sealed class SqliteBackend : StoreBackend
{
    public override string Name => "sqlite";

    public override Task<(StoreUnderTest?, string?)> OpenAsync()
    {
        var folder = new TempFolder();
        var database = new SqliteMemoryDatabase(Options.Create(new MemoryOptions { SqliteConnectionString = folder.SqliteConnectionString }));
        var stores = new StoreUnderTest(
            new SqliteTranscriptStore(database), new SqliteApprovalStore(database), new SqliteSummaryStore(database),
            new SqliteMemoryItemStore(database), new SqliteKnowledgeStore(database), new SqliteAuditStore(database), new SqliteArtifactStore(database), () =>
        {
            folder.Dispose();
            return Task.CompletedTask;
        });
        return Task.FromResult<(StoreUnderTest?, string?)>((stores, null));
    }
}

/// MongoDB from MONGODB_URI, else a Testcontainers container where AGENTRY_TESTCONTAINERS=1 (a
/// Docker engine). No MongoDB server can be installed on the machines without Docker, so there
/// the suite does not run and says so loudly (console, test result, test.sh summary); in CI with
/// MONGODB_URI set, a MongoDB that does not answer is a failure.
public sealed class MongoBackend : StoreBackend
{
    private static readonly Lazy<MongoDbContainer?> Container = new(StartContainer);

    public override string Name => "mongodb";

    public static string? Uri =>
        Environment.GetEnvironmentVariable("MONGODB_URI") is { Length: > 0 } uri ? uri
        : Container.Value?.GetConnectionString();

    public override async Task<(StoreUnderTest?, string?)> OpenAsync()
    {
        var (database, drop, notRun) = await OpenDatabaseAsync("Only the SQLite backend was tested.");
        if (database is null)
        {
            return (null, notRun);
        }

        var shared = new MongoMemoryDatabase(database);
        return (new StoreUnderTest(
            new MongoTranscriptStore(shared), new MongoApprovalStore(shared), new MongoSummaryStore(shared),
            new MongoMemoryItemStore(shared), new MongoKnowledgeStore(shared), new MongoAuditStore(shared), new MongoArtifactStore(shared), drop), null);
    }

    /// A fresh database of its own and how to drop it, or why there is none, reported loudly (what
    /// else ran is said by onlyTested). In CI, a MONGODB_URI that does not answer fails the test.
    public static async Task<(IMongoDatabase? Database, Func<Task> Drop, string? NotRunReason)> OpenDatabaseAsync(string onlyTested)
    {
        var uri = Uri;
        if (uri is null)
        {
            var reason = $"MONGODB CONTRACT SUITE DID NOT RUN: no MongoDB reachable (set MONGODB_URI, or AGENTRY_TESTCONTAINERS=1 with a Docker engine). {onlyTested}";
            NotRun.Report(reason);
            return (null, () => Task.CompletedTask, reason);
        }

        var settings = MongoClientSettings.FromConnectionString(uri);
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(5);
        var client = new MongoClient(settings);
        var database = client.GetDatabase($"agentry_test_{Guid.NewGuid():N}");
        try
        {
            await database.RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1));
        }
        catch (Exception e) when (e is MongoException or TimeoutException)
        {
            client.Dispose();
            // The hosts, not the URI: it may hold a password.
            var message = $"MONGODB CONTRACT SUITE DID NOT RUN: no MongoDB answers at {string.Join(",", settings.Servers)} (MONGODB_URI) within 5 s ({e.GetType().Name})";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(message);
            }

            NotRun.Report(message);
            return (null, () => Task.CompletedTask, message);
        }

        return (database, async () =>
        {
            await client.DropDatabaseAsync(database.DatabaseNamespace.DatabaseName);
            client.Dispose();
        }, null);
    }

    private static MongoDbContainer? StartContainer()
    {
        if (Environment.GetEnvironmentVariable("AGENTRY_TESTCONTAINERS") != "1")
        {
            return null;
        }

        var mongo = new MongoDbBuilder("mongo:8.0").Build();
        mongo.StartAsync().GetAwaiter().GetResult();
        TestContext.Progress.WriteLine($"Testcontainers: MongoDB at {mongo.GetConnectionString()}");
        return mongo;
    }
}
