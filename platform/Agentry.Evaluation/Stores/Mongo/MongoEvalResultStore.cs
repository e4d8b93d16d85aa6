using System.Text.Json;
using Agentry.Evaluation.Results;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Evaluation.Stores.Mongo;

/// Eval runs in a deployment's MongoDB, collection `eval_runs` (_id = the eval run's id): the fields a
/// list selects and shows, and the whole record as JSON, as the SQLite store keeps them. Eval runs
/// are the deployment's, so unlike Memory's documents these carry no tenant. startedTicks keeps the
/// precision a BSON date (milliseconds) drops, so both stores order and give back the same times.
public sealed class MongoEvalResultStore : IEvalResultStore
{
    public const string Collection = "eval_runs";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IMongoDatabase _database;
    private readonly IMongoCollection<BsonDocument> _runs;
    private Lazy<Task> _indexes;

    public MongoEvalResultStore(IMongoDatabase database)
    {
        _database = database;
        _runs = database.GetCollection<BsonDocument>(Collection);
        _indexes = new Lazy<Task>(CreateIndexesAsync);
    }

    public string Location =>
        $"MongoDB database {_database.DatabaseNamespace.DatabaseName} at {string.Join(",", _database.Client.Settings.Servers)}";

    public async Task SaveAsync(EvalRunRecord run, CancellationToken cancellationToken)
    {
        await EnsureIndexesAsync(cancellationToken);
        var totals = EvalRunSummary.Of(run);
        var document = new BsonDocument
        {
            ["_id"] = run.Id.ToString(),
            ["dataset"] = run.Dataset,
            ["datasetVersion"] = run.DatasetVersion,
            ["agents"] = run.Agents,
            ["model"] = run.Model,
            ["judgeModel"] = run.JudgeModel,
            ["judgePromptVersion"] = run.JudgePromptVersion,
            ["startedAt"] = run.StartedAt.UtcDateTime,
            ["startedTicks"] = run.StartedAt.UtcTicks,
            ["cases"] = totals.Cases,
            ["casesPassed"] = totals.CasesPassed,
            ["cost"] = new BsonDecimal128(totals.Cost),
            ["judgeCost"] = new BsonDecimal128(totals.JudgeCost),
            ["tokens"] = totals.Tokens,
            ["latencyP50Ticks"] = totals.LatencyP50.Ticks,
            ["latencyP95Ticks"] = totals.LatencyP95.Ticks,
            ["record"] = JsonSerializer.Serialize(run, Json),
        };
        await _runs.ReplaceOneAsync(new BsonDocument("_id", run.Id.ToString()), document, new ReplaceOptions { IsUpsert = true }, cancellationToken);
    }

    public async Task<EvalRunRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var document = await _runs.Find(new BsonDocument("_id", id.ToString()))
            .Project(new BsonDocument("record", 1))
            .FirstOrDefaultAsync(cancellationToken);
        return document is null ? null : JsonSerializer.Deserialize<EvalRunRecord>(document["record"].AsString, Json);
    }

    public async Task<IReadOnlyList<EvalRunSummary>> ListAsync(string? dataset, int limit, CancellationToken cancellationToken)
    {
        await EnsureIndexesAsync(cancellationToken);
        var filter = dataset is null ? new BsonDocument() : new BsonDocument("dataset", dataset);
        var documents = await _runs.Find(filter)
            .Project(new BsonDocument("record", 0))
            .Sort(new BsonDocument { ["startedTicks"] = -1, ["_id"] = -1 })
            .Limit(limit)
            .ToListAsync(cancellationToken);
        return [.. documents.Select(d => new EvalRunSummary(
            Guid.Parse(d["_id"].AsString), d["dataset"].AsString, d["datasetVersion"].AsString, d["agents"].AsString, d["model"].AsString,
            new DateTimeOffset(d["startedTicks"].ToInt64(), TimeSpan.Zero), d["cases"].ToInt32(), d["casesPassed"].ToInt32(),
            d["cost"].AsDecimal, d["judgeCost"].AsDecimal, d["tokens"].ToInt64(),
            TimeSpan.FromTicks(d["latencyP50Ticks"].ToInt64()), TimeSpan.FromTicks(d["latencyP95Ticks"].ToInt64())))];
    }

    /// Creates the index once per process; a MongoDB that was not up is tried again by the next caller.
    private async Task EnsureIndexesAsync(CancellationToken cancellationToken)
    {
        var indexes = _indexes;
        try
        {
            await indexes.Value.WaitAsync(cancellationToken);
        }
        catch when (indexes.Value.IsFaulted)
        {
            Interlocked.CompareExchange(ref _indexes, new Lazy<Task>(CreateIndexesAsync), indexes);
            throw;
        }
    }

    // A list of every dataset walks the second index backwards; one dataset's, the first.
    private Task CreateIndexesAsync() => _runs.Indexes.CreateManyAsync(
    [
        new CreateIndexModel<BsonDocument>(new BsonDocument { ["dataset"] = 1, ["startedTicks"] = 1, ["_id"] = 1 }, new CreateIndexOptions { Name = "dataset_started" }),
        new CreateIndexModel<BsonDocument>(new BsonDocument { ["startedTicks"] = 1, ["_id"] = 1 }, new CreateIndexOptions { Name = "started" }),
    ]);
}
