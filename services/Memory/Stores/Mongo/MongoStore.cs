using System.Text.Json;
using Agentry.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Memory;

/// The distributed store: transcripts, long-term memory items and knowledge chunks in MongoDB.
/// Every document carries its tenant, every index this class creates starts with the tenant, and
/// every query filters by it; the one read without a tenant is a run by its id (a Guid, unique
/// across tenants), which goes through MongoDB's own _id index (decision 0014).
public sealed partial class MongoStore : ITranscriptStore, IApprovalStore, ISummaryStore, IMemoryItemStore, IKnowledgeStore
{
    public const string ConnectionName = "mongodb";
    public const string DefaultDatabase = "agentry";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IMongoCollection<BsonDocument> _runs;
    private readonly IMongoCollection<BsonDocument> _steps;
    private readonly IMongoCollection<BsonDocument> _outcomes;
    private readonly IMongoCollection<BsonDocument> _items;
    private readonly IMongoCollection<BsonDocument> _chunks;
    private readonly IMongoCollection<BsonDocument> _summaries;
    private readonly IMongoCollection<BsonDocument> _collections;
    private Lazy<Task> _indexes;

    public MongoStore(IMongoDatabase database)
    {
        Database = database;
        _runs = database.GetCollection<BsonDocument>("runs");
        _steps = database.GetCollection<BsonDocument>("steps");
        _outcomes = database.GetCollection<BsonDocument>("outcomes");
        _items = database.GetCollection<BsonDocument>("memory_items");
        _chunks = database.GetCollection<BsonDocument>("knowledge_chunks");
        _summaries = database.GetCollection<BsonDocument>("summaries");
        _collections = database.GetCollection<BsonDocument>("knowledge_collections");
        _indexes = new Lazy<Task>(CreateIndexesAsync);
    }

    public IMongoDatabase Database { get; }

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

        await _runs.Indexes.CreateManyAsync([Index("tenant_started", false, "tenant", "startedAt")]);
        await _steps.Indexes.CreateManyAsync([Index("tenant_run_step", true, "tenant", "run", "step")]);
        await _outcomes.Indexes.CreateManyAsync([Index("tenant_run_step_seq", false, "tenant", "run", "step", "seq")]);
        await Database.GetCollection<BsonDocument>("approvals").Indexes.CreateManyAsync([
            Index("tenant_run", false, "tenant", "run"),
            Index("tenant_waiting", false, "tenant", "approved", "requestedAt"),
        ]);
        await _items.Indexes.CreateManyAsync([
            Index("tenant_user_id", true, "tenant", "user", "id"),
            Index("tenant_user_created", false, "tenant", "user", "createdTicks"),
        ]);
        await _chunks.Indexes.CreateManyAsync([
            Index("tenant_collection_id", true, "tenant", "collection", "id"),
            Index("tenant_collection_order", false, "tenant", "collection", "source", "position"),
        ]);
        await _summaries.Indexes.CreateManyAsync([Index("tenant_run_through", true, "tenant", "run", "through")]);
        await _collections.Indexes.CreateManyAsync([Index("tenant_name", true, "tenant", "name")]);
    }

    private static readonly UpdateOptions Upsert = new() { IsUpsert = true };

    private static BsonValue Text(string? value) => value is null ? BsonNull.Value : new BsonString(value);

    // A value inside an aggregation-pipeline update: $literal so that text beginning with "$" is not read as a field path.
    private static BsonDocument Literal(BsonValue value) => new("$literal", value);

    private static BsonDecimal128 Money(decimal dollars) => new(dollars);

    private static decimal? Money(BsonDocument document, string field) =>
        document.GetValue(field, BsonNull.Value) is BsonDecimal128 value ? value.ToDecimal() : null;

    private static string? Text(BsonDocument document, string field) =>
        document.GetValue(field, BsonNull.Value) is BsonString value ? value.AsString : null;

    private static string Required(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        return value;
    }
}
