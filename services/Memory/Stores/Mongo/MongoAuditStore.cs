using Agentry.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// The audit trail in MongoDB. Documents: audit (_id = the entry's id), with the same meaning as the
/// SQLite rows. atTicks keeps the full precision that a BSON date (milliseconds) drops, so both
/// backends order, page and give back the same times; at is there for people reading the collection.
public sealed class MongoAuditStore(MongoMemoryDatabase database) : IAuditStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task AppendAsync(AuditRecorded entry, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var document = new BsonDocument
        {
            ["_id"] = entry.Id.ToString(),
            ["tenant"] = Required(entry.TenantId),
            ["at"] = entry.At.UtcDateTime,
            ["atTicks"] = entry.At.UtcTicks,
            ["actor"] = entry.Actor,
            ["action"] = entry.Action,
            ["source"] = entry.Source,
            ["run"] = entry.RunId is { } run ? new BsonString(run.ToString()) : (BsonValue)BsonNull.Value,
            ["target"] = Text(entry.Target),
            ["detail"] = Text(entry.Detail),
        };
        try
        {
            await database.Audit.InsertOneAsync(document, cancellationToken: cancellationToken);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Kept already: a redelivery. The first copy stands.
        }
    }

    public async Task<IReadOnlyList<AuditRecorded>> QueryAsync(GetAuditTrail query, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var filter = new BsonDocument("tenant", Required(query.TenantId));
        if (query.RunId is { } run)
        {
            filter["run"] = run.ToString();
        }

        if (query.Before is { } before)
        {
            filter["atTicks"] = new BsonDocument("$lt", before.UtcTicks);
        }

        return [.. (await database.Audit.Find(filter)
            .Sort(new BsonDocument { ["atTicks"] = -1, ["_id"] = -1 })
            .Limit(IAuditStore.LimitOf(query))
            .ToListAsync(cancellationToken))
            .Select(EntryOf)];
    }

    private static AuditRecorded EntryOf(BsonDocument d) => new(
        Guid.Parse(d["_id"].AsString),
        d["tenant"].AsString,
        new DateTimeOffset(d["atTicks"].ToInt64(), TimeSpan.Zero),
        d["actor"].AsString,
        d["action"].AsString,
        d["source"].AsString,
        Text(d, "run") is { } run ? Guid.Parse(run) : null,
        Text(d, "target"),
        Text(d, "detail"));
}
