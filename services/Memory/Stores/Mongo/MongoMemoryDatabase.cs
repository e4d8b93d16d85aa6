using System.Text.Json;
using System.Text.RegularExpressions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Memory;

/// The distributed database that the MongoDB stores share: its collections and their indexes.
/// Every document carries its tenant, every index created here starts with the tenant, and every
/// query of the stores filters by it; the one read without a tenant is a run by its id (a Guid,
/// unique across tenants), which goes through MongoDB's own _id index (decision 0014).
public sealed class MongoMemoryDatabase
{
    public const string ConnectionName = ServiceDefaults.StoreConnections.MongoName;
    public const string DefaultDatabase = ServiceDefaults.StoreConnections.DefaultMongoDatabase;

    private Lazy<Task> _indexes;

    public MongoMemoryDatabase(IMongoDatabase database)
    {
        Database = database;
        Runs = database.GetCollection<BsonDocument>("runs");
        Steps = database.GetCollection<BsonDocument>("steps");
        Outcomes = database.GetCollection<BsonDocument>("outcomes");
        Approvals = database.GetCollection<BsonDocument>("approvals");
        Items = database.GetCollection<BsonDocument>("memory_items");
        Chunks = database.GetCollection<BsonDocument>("knowledge_chunks");
        Summaries = database.GetCollection<BsonDocument>("summaries");
        Collections = database.GetCollection<BsonDocument>("knowledge_collections");
        Audit = database.GetCollection<BsonDocument>("audit");
        Artifacts = database.GetCollection<BsonDocument>("artifacts");
        _indexes = new Lazy<Task>(CreateIndexesAsync);
    }

    public IMongoDatabase Database { get; }

    internal IMongoCollection<BsonDocument> Runs { get; }

    internal IMongoCollection<BsonDocument> Steps { get; }

    internal IMongoCollection<BsonDocument> Outcomes { get; }

    internal IMongoCollection<BsonDocument> Approvals { get; }

    internal IMongoCollection<BsonDocument> Items { get; }

    internal IMongoCollection<BsonDocument> Chunks { get; }

    internal IMongoCollection<BsonDocument> Summaries { get; }

    internal IMongoCollection<BsonDocument> Collections { get; }

    internal IMongoCollection<BsonDocument> Audit { get; }

    /// One document per run, read by its _id (the run id) and tenant: no index beyond _id's.
    internal IMongoCollection<BsonDocument> Artifacts { get; }

    /// Creates the indexes once per process (the first caller waits; a failure is retried by the next).
    public async Task EnsureIndexesAsync(CancellationToken cancellationToken)
    {
        var indexes = _indexes;
        try
        {
            await indexes.Value.WaitAsync(cancellationToken);
        }
        catch when (indexes.Value.IsFaulted)
        {
            // A MongoDB that was not up (a driver TimeoutException) or refused: the next caller tries again.
            Interlocked.CompareExchange(ref _indexes, new Lazy<Task>(CreateIndexesAsync), indexes);
            throw;
        }
    }

    private async Task CreateIndexesAsync()
    {
        static CreateIndexModel<BsonDocument> Index(string name, bool unique, params string[] fields) =>
            new(new BsonDocumentIndexKeysDefinition<BsonDocument>(new BsonDocument(fields.Select(f => new BsonElement(f, 1)))), new CreateIndexOptions { Name = name, Unique = unique });

        await Runs.Indexes.CreateManyAsync([Index("tenant_started", false, "tenant", "startedAt"), Index("parent_tenant", false, "parentRun", "tenant")]);
        await Steps.Indexes.CreateManyAsync([Index("tenant_run_step", true, "tenant", "run", "step")]);
        await Outcomes.Indexes.CreateManyAsync([Index("tenant_run_step_seq", false, "tenant", "run", "step", "seq")]);
        await Approvals.Indexes.CreateManyAsync([
            Index("tenant_run", false, "tenant", "run"),
            Index("tenant_waiting", false, "tenant", "approved", "requestedAt"),
        ]);
        await Items.Indexes.CreateManyAsync([
            Index("tenant_user_id", true, "tenant", "user", "id"),
            Index("tenant_user_created", false, "tenant", "user", "createdTicks"),
        ]);
        await Chunks.Indexes.CreateManyAsync([
            Index("tenant_collection_id", true, "tenant", "collection", "id"),
            Index("tenant_collection_order", false, "tenant", "collection", "source", "position"),
        ]);
        await Summaries.Indexes.CreateManyAsync([Index("tenant_run_through", true, "tenant", "run", "through")]);
        await Collections.Indexes.CreateManyAsync([Index("tenant_name", true, "tenant", "name")]);
        // _id last: the trail is read newest first with ties by _id, and an index that holds the whole
        // order is walked backwards instead of sorting the tenant's entries in memory.
        await Audit.Indexes.CreateManyAsync([
            Index("tenant_at", false, "tenant", "atTicks", "_id"),
            Index("tenant_run_at", false, "tenant", "run", "atTicks", "_id"),
        ]);
    }

    internal static readonly UpdateOptions Upsert = new() { IsUpsert = true };

    internal static BsonValue Text(string? value) => value is null ? BsonNull.Value : new BsonString(value);

    // A value inside an aggregation-pipeline update: $literal so that text beginning with "$" is not read as a field path.
    internal static BsonDocument Literal(BsonValue value) => new("$literal", value);

    internal static BsonDecimal128 Money(decimal dollars) => new(dollars);

    internal static decimal? Money(BsonDocument document, string field) =>
        document.GetValue(field, BsonNull.Value) is BsonDecimal128 value ? value.ToDecimal() : null;

    internal static string? Text(BsonDocument document, string field) =>
        document.GetValue(field, BsonNull.Value) is BsonString value ? value.AsString : null;

    internal static string Required(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        return value;
    }

    internal static JsonElement ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    // Narrows the candidates in the database (any query word as a case-insensitive substring, a
    // superset of TermMatch's whole words); TermMatch then ranks them as the SQLite store does.
    internal static BsonDocument AnyTerm(string query)
    {
        var terms = TermMatch.Terms(query);
        var anyOf = terms.Count == 0
            ? new BsonArray { new BsonDocument("_id", new BsonDocument("$exists", false)) }
            : new BsonArray(terms.Select(term => new BsonDocument("text", new BsonRegularExpression(Regex.Escape(term), "i"))));
        return new BsonDocument("$or", anyOf);
    }
}
