using Agentry.Gateway.Triggers.Webhooks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Agentry.Gateway.Stores.Mongo;

/// The webhook inbox in MongoDB's `webhook_deliveries` collection (_id = the inbox id). A unique
/// index over the verified deliveries' agent, trigger and delivery id (partial: refusals before
/// verification stay out of it) makes a delivery recorded once, whichever replica takes it.
public sealed class MongoWebhookInbox(IMongoDatabase database) : IWebhookInbox
{
    private const string Collection = "webhook_deliveries";

    private readonly IMongoCollection<BsonDocument> _deliveries = database.GetCollection<BsonDocument>(Collection);
    private readonly Lazy<Task> _indexes = new(() => database.GetCollection<BsonDocument>(Collection).Indexes.CreateManyAsync(
    [
        new CreateIndexModel<BsonDocument>(new BsonDocument { ["agent"] = 1, ["trigger"] = 1, ["deliveryId"] = 1 }, new CreateIndexOptions<BsonDocument>
        {
            Name = "once",
            Unique = true,
            PartialFilterExpression = new BsonDocument("verified", true),
        }),
        new CreateIndexModel<BsonDocument>(new BsonDocument { ["tenant"] = 1, ["receivedAt"] = -1 }, new CreateIndexOptions { Name = "tenant_received" }),
    ]));

    public async Task<(WebhookDelivery Delivery, bool New)> ReceiveAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await _indexes.Value.WaitAsync(cancellationToken);
        try
        {
            await _deliveries.InsertOneAsync(Write(delivery, verified: true), cancellationToken: cancellationToken);
            return (delivery, true);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            var same = new BsonDocument { ["agent"] = delivery.Agent, ["trigger"] = delivery.Trigger, ["deliveryId"] = delivery.DeliveryId, ["verified"] = true };
            var existing = await _deliveries.FindOneAndUpdateAsync<BsonDocument>(same, Builders<BsonDocument>.Update.Inc("duplicates", 1),
                new FindOneAndUpdateOptions<BsonDocument> { ReturnDocument = ReturnDocument.After }, cancellationToken);
            return (Read(existing), false);
        }
    }

    public async Task RecordUnverifiedAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await _indexes.Value.WaitAsync(cancellationToken);
        await _deliveries.InsertOneAsync(Write(delivery with { Body = null, State = WebhookDeliveryState.Unverified }, verified: false), cancellationToken: cancellationToken);
    }

    public async Task<bool> ReopenAsync(Guid id, IReadOnlyCollection<WebhookDeliveryState> from, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument
        {
            ["_id"] = id.ToString(),
            ["verified"] = true,
            ["state"] = new BsonDocument("$in", new BsonArray(from.Select(state => state.ToString()))),
        };
        var update = Builders<BsonDocument>.Update.Set("state", (BsonValue)nameof(WebhookDeliveryState.Received)).Set("settledAt", (BsonValue)BsonNull.Value);
        return (await _deliveries.UpdateOneAsync(filter, update, cancellationToken: cancellationToken)).ModifiedCount > 0;
    }

    public Task SettleAsync(Guid id, WebhookDeliveryState state, Guid? runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        _deliveries.UpdateOneAsync(new BsonDocument("_id", id.ToString()), Builders<BsonDocument>.Update
            .Set("state", (BsonValue)state.ToString())
            .Set("runId", runId is { } run ? (BsonValue)run.ToString() : BsonNull.Value)
            .Set("reason", reason is null ? BsonNull.Value : (BsonValue)reason)
            .Set("settledAt", (BsonValue)at.UtcDateTime), cancellationToken: cancellationToken);

    public async Task<WebhookDelivery?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await _deliveries.Find(new BsonDocument("_id", id.ToString())).FirstOrDefaultAsync(cancellationToken) is { } document ? Read(document) : null;

    public async Task<IReadOnlyList<WebhookDelivery>> ListAsync(string tenantId, string? agent, string? trigger, int limit, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument("tenant", tenantId);
        if (agent is not null)
        {
            filter["agent"] = agent;
        }

        if (trigger is not null)
        {
            filter["trigger"] = trigger;
        }

        // receivedAt, then the insertion order within a millisecond (BSON dates keep no finer time).
        var documents = await _deliveries.Find(filter).Sort(new BsonDocument { ["receivedAt"] = -1, ["sequence"] = -1 }).Limit(limit).ToListAsync(cancellationToken);
        return documents.Select(Read).ToList();
    }

    private static BsonDocument Write(WebhookDelivery d, bool verified) => new()
    {
        ["_id"] = d.Id.ToString(),
        ["tenant"] = d.TenantId,
        ["agent"] = d.Agent,
        ["trigger"] = d.Trigger,
        ["source"] = d.Source,
        ["deliveryId"] = d.DeliveryId,
        ["verified"] = verified,
        ["receivedAt"] = d.ReceivedAt.UtcDateTime,
        ["sequence"] = d.ReceivedAt.UtcTicks,
        // A list of pairs: header names may hold '.', which a field name had better not.
        ["headers"] = new BsonArray(d.Headers.Select(h => new BsonDocument { ["name"] = h.Key, ["value"] = h.Value })),
        ["body"] = d.Body is null ? BsonNull.Value : d.Body,
        ["state"] = d.State.ToString(),
        ["runId"] = d.RunId is { } run ? run.ToString() : BsonNull.Value,
        ["reason"] = d.Reason is null ? BsonNull.Value : d.Reason,
        ["duplicates"] = d.Duplicates,
        ["settledAt"] = d.SettledAt is { } settled ? settled.UtcDateTime : BsonNull.Value,
    };

    private static WebhookDelivery Read(BsonDocument d) => new(
        Guid.Parse(d["_id"].AsString),
        d["tenant"].AsString,
        d["agent"].AsString,
        d["trigger"].AsString,
        d["source"].AsString,
        d["deliveryId"].AsString,
        new DateTimeOffset(d["sequence"].ToInt64(), TimeSpan.Zero),
        d["headers"].AsBsonArray.Select(h => h.AsBsonDocument).ToDictionary(h => h["name"].AsString, h => h["value"].AsString, StringComparer.OrdinalIgnoreCase),
        d["body"].IsBsonNull ? null : d["body"].AsString,
        Enum.Parse<WebhookDeliveryState>(d["state"].AsString),
        d["runId"].IsBsonNull ? null : Guid.Parse(d["runId"].AsString),
        d["reason"].IsBsonNull ? null : d["reason"].AsString,
        d["duplicates"].ToInt32(),
        d["settledAt"].IsBsonNull ? null : new DateTimeOffset(d["settledAt"].ToUniversalTime(), TimeSpan.Zero));
}
