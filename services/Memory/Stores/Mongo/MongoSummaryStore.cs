using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// Summaries of runs' older steps in MongoDB. Documents: summaries (_id = run:through), first write
/// wins as in SQLite.
public sealed class MongoSummaryStore(MongoMemoryDatabase database) : ISummaryStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task SaveSummaryAsync(TranscriptSummary summary, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(summary.TenantId)).SetOnInsert("run", summary.RunId.ToString())
            .SetOnInsert("through", summary.ThroughStep).SetOnInsert("text", summary.Text)
            .SetOnInsert("model", summary.Model).SetOnInsert("createdAt", summary.At.UtcDateTime);
        await database.Summaries.UpdateOneAsync(new BsonDocument("_id", $"{summary.RunId}:{summary.ThroughStep}"), update, Upsert, cancellationToken);
    }

    public async Task<TranscriptSummary?> GetSummaryAsync(string tenantId, Guid runId, int throughStep, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument
        {
            ["tenant"] = Required(tenantId),
            ["run"] = runId.ToString(),
            ["through"] = new BsonDocument("$lte", throughStep),
        };
        var found = await database.Summaries.Find(filter).Sort(new BsonDocument("through", -1)).Limit(1).FirstOrDefaultAsync(cancellationToken);
        return found is null
            ? null
            : new TranscriptSummary(runId, tenantId, found["through"].AsInt32, found["text"].AsString, found["model"].AsString,
                new DateTimeOffset(found["createdAt"].ToUniversalTime(), TimeSpan.Zero));
    }
}
