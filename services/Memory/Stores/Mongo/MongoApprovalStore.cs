using Agentry.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// Approvals in MongoDB. Documents: approvals (_id = run:call id), with the same meaning as the
/// SQLite rows: a decision may create the document first; the request completes it; only requested
/// ones are shown, and pending ones only for runs still running.
public sealed class MongoApprovalStore(MongoMemoryDatabase database) : IApprovalStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    public async Task RecordApprovalRequestedAsync(ApprovalRequested request, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (request.Calls.Count == 0)
        {
            return;
        }

        await database.EnsureIndexesAsync(cancellationToken);
        var writes = request.Calls.Select(call => new UpdateOneModel<BsonDocument>(
            ApprovalKey(request.RunId, call.CallId),
            Builders<BsonDocument>.Update
                .SetOnInsert("tenant", Required(request.TenantId)).SetOnInsert("run", request.RunId.ToString()).SetOnInsert("callId", call.CallId)
                .SetOnInsert("requestedAt", at.UtcDateTime)
                .Set("agent", request.Agent).Set("step", request.Step).Set("tool", call.Tool)
                .Set("arguments", call.Arguments.GetRawText()).Set("expiresAt", request.ExpiresAt.UtcDateTime))
        { IsUpsert = true });
        await database.Approvals.BulkWriteAsync(writes, new BulkWriteOptions { IsOrdered = false }, cancellationToken);
        // A document a decision created first has no requestedAt yet.
        await database.Approvals.UpdateManyAsync(
            new BsonDocument { ["run"] = request.RunId.ToString(), ["tenant"] = request.TenantId, ["requestedAt"] = new BsonDocument("$exists", false) },
            Builders<BsonDocument>.Update.Set("requestedAt", at.UtcDateTime),
            cancellationToken: cancellationToken);
    }

    public async Task RecordApprovalDecidedAsync(ApprovalDecided decision, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var filter = ApprovalKey(decision.RunId, decision.CallId);
        filter["approved"] = BsonNull.Value; // matches a missing field too: only an undecided call is decided
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(decision.TenantId)).SetOnInsert("run", decision.RunId.ToString())
            .SetOnInsert("callId", decision.CallId).SetOnInsert("step", decision.Step)
            .Set("approved", decision.Approved).Set("decidedBy", decision.DecidedBy)
            .Set("comment", Text(decision.Comment)).Set("decidedAt", at.UtcDateTime);
        try
        {
            await database.Approvals.UpdateOneAsync(filter, update, Upsert, cancellationToken);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Decided already: the upsert found no undecided document and could not insert another.
        }
    }

    // The Gateway assigns only a call it read from here, so the document exists: nothing to insert.
    public async Task RecordApprovalAssignedAsync(ApprovalAssigned assignment, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var filter = ApprovalKey(assignment.RunId, assignment.CallId);
        filter["tenant"] = Required(assignment.TenantId);
        filter["approved"] = BsonNull.Value;
        filter["requestedAt"] = new BsonDocument("$exists", true);
        filter["$or"] = new BsonArray
        {
            new BsonDocument("assignedAt", new BsonDocument("$exists", false)),
            new BsonDocument("assignedAt", new BsonDocument("$lte", assignment.AssignedAt.UtcDateTime)),
        };
        var update = Builders<BsonDocument>.Update
            .Set("assignee", Text(assignment.Assignee)).Set("assignedBy", assignment.AssignedBy).Set("assignedAt", assignment.AssignedAt.UtcDateTime);
        await database.Approvals.UpdateOneAsync(filter, update, cancellationToken: cancellationToken);
    }

    public async Task<IReadOnlyList<ApprovalView>> PendingApprovalsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var waiting = await database.Approvals
            .Find(new BsonDocument { ["tenant"] = Required(tenantId), ["approved"] = BsonNull.Value, ["requestedAt"] = new BsonDocument("$exists", true) })
            .Sort(new BsonDocument { ["requestedAt"] = 1, ["_id"] = 1 })
            .ToListAsync(cancellationToken);
        if (waiting.Count == 0)
        {
            return [];
        }

        var running = (await database.Runs
            .Find(new BsonDocument { ["tenant"] = tenantId, ["_id"] = new BsonDocument("$in", new BsonArray(waiting.Select(a => a["run"]).Distinct())), ["status"] = nameof(RunStatus.Running) })
            .Project(new BsonDocument("_id", 1))
            .ToListAsync(cancellationToken))
            .Select(r => r["_id"].AsString)
            .ToHashSet();
        return [.. waiting.Where(a => running.Contains(a["run"].AsString)).Select(ApprovalOf)];
    }

    /// The run's requested calls, for its transcript (MongoTranscriptStore).
    internal static async Task<IReadOnlyList<ApprovalView>> OfRunAsync(MongoMemoryDatabase database, BsonValue tenant, Guid runId, CancellationToken cancellationToken) =>
        [.. (await database.Approvals
            .Find(new BsonDocument { ["tenant"] = tenant, ["run"] = runId.ToString(), ["requestedAt"] = new BsonDocument("$exists", true) })
            .Sort(new BsonDocument { ["step"] = 1, ["requestedAt"] = 1, ["callId"] = 1 })
            .ToListAsync(cancellationToken))
            .Select(ApprovalOf)];

    private static ApprovalView ApprovalOf(BsonDocument a) =>
        new(
            Guid.Parse(a["run"].AsString),
            a["tenant"].AsString,
            Text(a, "agent") ?? "",
            a["step"].AsInt32,
            a["callId"].AsString,
            a["tool"].AsString,
            ParseJson(a["arguments"].AsString),
            At(a["requestedAt"]),
            At(a["expiresAt"]),
            a.GetValue("approved", BsonNull.Value) is BsonBoolean approved ? approved.Value : null,
            Text(a, "decidedBy"),
            Text(a, "comment"),
            a.GetValue("decidedAt", BsonNull.Value) is BsonDateTime decided ? At(decided) : null,
            Text(a, "assignee"),
            Text(a, "assignedBy"),
            a.GetValue("assignedAt", BsonNull.Value) is BsonDateTime assigned ? At(assigned) : null);

    private static DateTimeOffset At(BsonValue value) => new(value.ToUniversalTime(), TimeSpan.Zero);

    private static BsonDocument ApprovalKey(Guid runId, string callId) => new("_id", $"{runId}:{callId}");
}
