using System.Text.Json;
using Agentry.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;
using static Agentry.Memory.MongoMemoryDatabase;

namespace Agentry.Memory;

/// Each run's transcript in MongoDB. Documents: runs (_id = run id), steps (_id = run:step),
/// outcomes (_id = run:call id). Each write is an upsert with the same meaning as the SQLite
/// statements, so redelivered or reordered messages leave the same record.
public sealed class MongoTranscriptStore(MongoMemoryDatabase database) : ITranscriptStore
{
    /// The database it keeps them in, shared with the other MongoDB stores.
    public MongoMemoryDatabase Database => database;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task StartRunAsync(RunStart start, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        // Whatever an earlier event wrote wins (coalesce), as in SQLite: a pipeline update can say so.
        BsonDocument KeepOr(string field, BsonValue value) => new("$ifNull", new BsonArray { "$" + field, Literal(value) });
        var set = new BsonDocument
        {
            ["tenant"] = KeepOr("tenant", Required(start.TenantId)),
            ["status"] = KeepOr("status", nameof(RunStatus.Running)),
            ["agent"] = KeepOr("agent", Text(start.Agent)),
            ["goal"] = KeepOr("goal", Text(start.Goal)),
            ["input"] = KeepOr("input", Text(start.InputJson)),
            ["startedAt"] = KeepOr("startedAt", start.At.UtcDateTime),
            ["user"] = KeepOr("user", Text(start.UserId)),
            ["trigger"] = KeepOr("trigger", Text(start.Trigger?.ToString())),
            ["triggerOrigin"] = KeepOr("triggerOrigin", Text(start.Origin is null ? null : JsonSerializer.Serialize(start.Origin, Json))),
            ["lineage"] = KeepOr("lineage", Text(start.Lineage is null ? null : JsonSerializer.Serialize(start.Lineage, Json))),
            ["parentRun"] = KeepOr("parentRun", Text(start.Lineage?.ParentRunId.ToString())),
        };
        await database.Runs.UpdateOneAsync(
            new BsonDocument("_id", start.RunId.ToString()),
            new PipelineUpdateDefinition<BsonDocument>(new[] { new BsonDocument("$set", set) }),
            Upsert,
            cancellationToken);
    }

    public async Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(step.TenantId)).SetOnInsert("run", step.RunId.ToString()).SetOnInsert("step", step.Step)
            .Set("planned", true)
            .Set("thought", Text(step.Thought))
            .Set("toolCalls", JsonSerializer.Serialize(step.ToolCalls, Json))
            .Set("finalAnswer", Text(step.FinalAnswer))
            .Set("inputTokens", step.Usage.InputTokens)
            .Set("outputTokens", step.Usage.OutputTokens)
            .Set("model", Text(step.Model))
            .Set("cacheHit", step.CacheHit)
            .Set("plan", step.Plan is null ? (BsonValue)BsonNull.Value : new BsonString(JsonSerializer.Serialize(step.Plan, Json)))
            .Set("cost", Money(step.Cost))
            .Set<BsonDocument, BsonValue>("context", step.ContextUsage is { } context
                ? new BsonDocument { ["inputTokens"] = context.InputTokens, ["outputTokens"] = context.OutputTokens, ["cost"] = Money(step.ContextCost) }
                : BsonNull.Value);
        await database.Steps.UpdateOneAsync(StepKey(step.RunId, step.Step), update, Upsert, cancellationToken);
    }

    public async Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken)
    {
        if (result.Outcomes.Count == 0)
        {
            return;
        }

        await database.EnsureIndexesAsync(cancellationToken);
        // First write wins per call, as ON CONFLICT DO NOTHING does in SQLite.
        var writes = result.Outcomes.Select((outcome, seq) => new UpdateOneModel<BsonDocument>(
            new BsonDocument("_id", $"{result.RunId}:{outcome.CallId}"),
            Builders<BsonDocument>.Update
                .SetOnInsert("tenant", Required(result.TenantId)).SetOnInsert("run", result.RunId.ToString())
                .SetOnInsert("step", result.Step).SetOnInsert("seq", seq)
                .SetOnInsert("callId", outcome.CallId).SetOnInsert("tool", outcome.Tool)
                .SetOnInsert("arguments", outcome.Arguments.GetRawText()).SetOnInsert("output", outcome.Output)
                .SetOnInsert("errorKind", outcome.ErrorKind.ToString()).SetOnInsert("error", Text(outcome.Error))
                .SetOnInsert("durationMs", outcome.Duration.TotalMilliseconds)
                .SetOnInsert("outputRef", Text(outcome.OutputRef is { } reference ? JsonSerializer.Serialize(reference) : null)))
        { IsUpsert = true });
        await database.Outcomes.BulkWriteAsync(writes, new BulkWriteOptions { IsOrdered = false }, cancellationToken);
    }

    public async Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(verdict.TenantId)).SetOnInsert("run", verdict.RunId.ToString()).SetOnInsert("step", verdict.Step)
            .SetOnInsert("planned", false)
            .Set("verdict", verdict.Verdict.ToString())
            .Set("verdictReason", Text(verdict.Reason));
        await database.Steps.UpdateOneAsync(StepKey(verdict.RunId, verdict.Step), update, Upsert, cancellationToken);
    }

    public async Task EndRunAsync(RunEnd end, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var update = Builders<BsonDocument>.Update
            .SetOnInsert("tenant", Required(end.TenantId)).SetOnInsert("agent", Text(end.Agent))
            .Set("status", end.Status.ToString())
            .Set("answer", Text(end.Answer))
            .Set("reason", Text(end.Reason))
            .Set("steps", end.Steps)
            .Set("inputTokens", end.Usage.InputTokens)
            .Set("outputTokens", end.Usage.OutputTokens)
            .Set("cost", Money(end.TotalCost))
            .Set("endedAt", end.At.UtcDateTime);
        await database.Runs.UpdateOneAsync(new BsonDocument("_id", end.RunId.ToString()), update, Upsert, cancellationToken);
    }

    public async Task RecordExtractionAsync(Guid runId, TokenUsage usage, decimal cost, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var update = Builders<BsonDocument>.Update.Set("extraction",
            new BsonDocument { ["inputTokens"] = usage.InputTokens, ["outputTokens"] = usage.OutputTokens, ["cost"] = Money(cost) });
        await database.Runs.UpdateOneAsync(
            new BsonDocument { ["_id"] = runId.ToString(), ["extraction"] = new BsonDocument("$exists", false) }, update, cancellationToken: cancellationToken);
    }

    // The summary may come before Memory records the escalation itself (they travel on different queues).
    public async Task RecordEscalationSummaryAsync(EscalationSummarized summary, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        var later = new BsonDocument("$gte", new BsonArray { summary.Step, new BsonDocument("$ifNull", new BsonArray { "$escalationStep", summary.Step }) });
        BsonDocument IfLater(string field, BsonValue value) => new("$cond", new BsonArray { later, Literal(value), "$" + field });
        var set = new BsonDocument
        {
            ["tenant"] = new BsonDocument("$ifNull", new BsonArray { "$tenant", Literal(Required(summary.TenantId)) }),
            ["status"] = new BsonDocument("$ifNull", new BsonArray { "$status", Literal(nameof(RunStatus.Escalated)) }),
            ["escalationSummary"] = IfLater("escalationSummary", summary.Summary),
            ["escalationStep"] = IfLater("escalationStep", summary.Step),
        };
        await database.Runs.UpdateOneAsync(
            new BsonDocument("_id", summary.RunId.ToString()),
            new PipelineUpdateDefinition<BsonDocument>(new[] { new BsonDocument("$set", set) }),
            Upsert,
            cancellationToken);
    }

    // As in SQLite: should the grades come before the end of the run, the run is Completed (only
    // completed runs are graded); the first grades recorded stay.
    public async Task RecordOnlineEvaluationAsync(RunGraded graded, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        BsonDocument KeepOr(string field, BsonValue value) => new("$ifNull", new BsonArray { "$" + field, Literal(value) });
        var grades = JsonSerializer.Serialize(new OnlineEvaluationView(graded.Score, graded.Grades, graded.GradedAt, graded.Sequence), Json);
        var set = new BsonDocument
        {
            ["tenant"] = KeepOr("tenant", Required(graded.TenantId)),
            ["status"] = KeepOr("status", nameof(RunStatus.Completed)),
            ["agent"] = KeepOr("agent", Text(graded.Agent)),
            ["onlineEvaluation"] = KeepOr("onlineEvaluation", grades),
        };
        await database.Runs.UpdateOneAsync(
            new BsonDocument("_id", graded.RunId.ToString()),
            new PipelineUpdateDefinition<BsonDocument>(new[] { new BsonDocument("$set", set) }),
            Upsert,
            cancellationToken);
    }

    public async Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken)
    {
        await database.EnsureIndexesAsync(cancellationToken);
        // The first guidance for a step wins, as coalesce does in SQLite.
        BsonDocument KeepOr(string field, BsonValue value) => new("$ifNull", new BsonArray { "$" + field, Literal(value) });
        var step = new BsonDocument
        {
            ["tenant"] = KeepOr("tenant", Required(tenantId)),
            ["run"] = runId.ToString(),
            ["step"] = afterStep,
            ["planned"] = KeepOr("planned", false),
            ["guidance"] = KeepOr("guidance", guidance.Text),
            ["guidanceBy"] = KeepOr("guidanceBy", guidance.By),
        };
        await database.Steps.UpdateOneAsync(
            StepKey(runId, afterStep),
            new PipelineUpdateDefinition<BsonDocument>(new[] { new BsonDocument("$set", step) }),
            Upsert,
            cancellationToken);
        var escalated = new BsonDocument("$eq", new BsonArray { "$status", Literal(nameof(RunStatus.Escalated)) });
        BsonDocument IfEscalated(string field, BsonValue then) => new("$cond", new BsonArray { escalated, then, "$" + field });
        var run = new BsonDocument
        {
            ["tenant"] = KeepOr("tenant", Required(tenantId)),
            ["status"] = new BsonDocument("$cond", new BsonArray { new BsonDocument("$or", new BsonArray { escalated, new BsonDocument("$eq", new BsonArray { new BsonDocument("$type", "$status"), "missing" }) }), nameof(RunStatus.Running), "$status" }),
            ["reason"] = IfEscalated("reason", Literal(BsonNull.Value)),
            ["endedAt"] = IfEscalated("endedAt", "$$REMOVE"),
        };
        await database.Runs.UpdateOneAsync(
            new BsonDocument("_id", runId.ToString()),
            new PipelineUpdateDefinition<BsonDocument>(new[] { new BsonDocument("$set", run) }),
            Upsert,
            cancellationToken);
    }

    public Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken) =>
        GetRunAsync(new BsonDocument("_id", runId.ToString()), runId, cancellationToken);

    public Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken) =>
        GetRunAsync(new BsonDocument { ["_id"] = runId.ToString(), ["tenant"] = Required(tenantId) }, runId, cancellationToken);

    public Task<RunView> GetRecentAsync(Guid runId, int afterStep, CancellationToken cancellationToken) =>
        GetRunAsync(new BsonDocument("_id", runId.ToString()), runId, cancellationToken, afterStep, whole: false);

    public async Task<IReadOnlyList<RunSummary>> ListAsync(ListRuns query, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument("tenant", Required(query.TenantId));
        if (query.Agent is { } agent)
        {
            filter["agent"] = agent;
        }

        if (query.Status is { } status)
        {
            filter["status"] = status.ToString();
        }

        if (query.Trigger is { } trigger)
        {
            filter["trigger"] = trigger.ToString();
        }

        if (query.Since is { } since)
        {
            filter["startedAt"] = new BsonDocument("$gte", since.UtcDateTime);
        }

        // Descending on startedAt puts runs without one (known only from early events) last, as in SQLite.
        var runs = await database.Runs.Find(filter).Sort(new BsonDocument("startedAt", -1)).Limit(query.Limit).ToListAsync(cancellationToken);
        return runs.Select(run =>
        {
            var ended = run.Contains("endedAt");
            return new RunSummary(
                Guid.Parse(run["_id"].AsString),
                Text(run, "agent"),
                Text(run, "goal"),
                Enum.Parse<RunStatus>(run["status"].AsString),
                Text(run, "trigger") is { } kind ? Enum.Parse<TriggerKind>(kind) : null,
                run.GetValue("startedAt", BsonNull.Value) is BsonDateTime started ? new DateTimeOffset(started.ToUniversalTime()) : null,
                ended ? new DateTimeOffset(run["endedAt"].ToUniversalTime()) : null,
                ended && run.GetValue("steps", BsonNull.Value).IsInt32 ? run["steps"].AsInt32 : null,
                ended ? new TokenUsage(run["inputTokens"].AsInt32, run["outputTokens"].AsInt32) : null,
                ended ? Money(run, "cost") : null);
        }).ToList();
    }

    public async Task<IReadOnlyList<AgentDayTotals>> TotalsAsync(GetRunTotals query, CancellationToken cancellationToken)
    {
        var window = new BsonDocument { ["$gte"] = query.Since.UtcDateTime, ["$lt"] = query.Until.UtcDateTime };
        var filter = new BsonDocument
        {
            ["tenant"] = Required(query.TenantId),
            ["agent"] = query.Agent is { } agent ? agent : new BsonDocument { ["$type"] = "string" },
            ["$or"] = new BsonArray
            {
                new BsonDocument("startedAt", window),
                new BsonDocument { ["startedAt"] = BsonNull.Value, ["endedAt"] = window },
            },
        };
        var fields = new BsonDocument { ["agent"] = 1, ["startedAt"] = 1, ["endedAt"] = 1, ["status"] = 1, ["inputTokens"] = 1, ["outputTokens"] = 1, ["cost"] = 1, ["extraction"] = 1 };
        var runs = await database.Runs.Find(filter).Project(fields).ToListAsync(cancellationToken);
        return RunTotalsTally.Of(runs.Select(run =>
        {
            var ended = run.Contains("endedAt");
            var at = run.GetValue("startedAt", BsonNull.Value) is BsonDateTime started ? started : run["endedAt"];
            return new CountedRun(
                run["agent"].AsString,
                new DateTimeOffset(at.ToUniversalTime()),
                Enum.Parse<RunStatus>(run["status"].AsString),
                ended ? new TokenUsage(run["inputTokens"].AsInt32, run["outputTokens"].AsInt32) : null,
                ended ? Money(run, "cost") : null,
                ExtractionUsage(run),
                ExtractionCost(run));
        }));
    }

    private async Task<RunView> GetRunAsync(BsonDocument filter, Guid runId, CancellationToken cancellationToken, int afterStep = 0, bool whole = true)
    {
        var run = await database.Runs.Find(filter).FirstOrDefaultAsync(cancellationToken);
        if (run is null)
        {
            return RunView.NotFound(runId);
        }

        // The indexes on (tenant, run, step) serve the step bound too.
        var ofRun = new BsonDocument { ["tenant"] = run["tenant"], ["run"] = runId.ToString(), ["step"] = new BsonDocument("$gt", afterStep) };
        var outcomes = (await database.Outcomes.Find(ofRun).Sort(new BsonDocument { ["step"] = 1, ["seq"] = 1 }).ToListAsync(cancellationToken))
            .GroupBy(o => o["step"].AsInt32)
            .ToDictionary(g => g.Key, g => g.Select(o => new ToolOutcome(
                o["callId"].AsString,
                o["tool"].AsString,
                ParseJson(o["arguments"].AsString),
                o["output"].AsString,
                Enum.Parse<ToolErrorKind>(o["errorKind"].AsString),
                Text(o, "error"),
                TimeSpan.FromMilliseconds(o["durationMs"].ToDouble()),
                Text(o, "outputRef") is { } reference ? JsonSerializer.Deserialize<PayloadRef>(reference) : null)).ToList());

        var steps = (await database.Steps.Find(ofRun).Sort(new BsonDocument("step", 1)).ToListAsync(cancellationToken))
            .Select(s =>
            {
                var number = s["step"].AsInt32;
                var planned = s.GetValue("planned", false).ToBoolean();
                return new StepView(
                    number,
                    Text(s, "thought"),
                    planned ? JsonSerializer.Deserialize<List<ToolCall>>(s["toolCalls"].AsString, Json)! : [],
                    outcomes.GetValueOrDefault(number) ?? [],
                    Text(s, "finalAnswer"),
                    Text(s, "verdict") is { } verdict ? Enum.Parse<Verdict>(verdict) : null,
                    Text(s, "verdictReason"),
                    planned ? new TokenUsage(s["inputTokens"].AsInt32, s["outputTokens"].AsInt32) : null,
                    Text(s, "model"),
                    s.GetValue("cacheHit", false).ToBoolean(),
                    Text(s, "plan") is { } plan ? JsonSerializer.Deserialize<Plan>(plan, Json) : null,
                    planned ? Money(s, "cost") : null,
                    Text(s, "guidance") is { } guidance ? new Guidance(guidance, Text(s, "guidanceBy") ?? "") : null,
                    s.GetValue("context", BsonNull.Value) is BsonDocument context ? new TokenUsage(context["inputTokens"].AsInt32, context["outputTokens"].AsInt32) : null,
                    s.GetValue("context", BsonNull.Value) is BsonDocument spent ? Money(spent, "cost") : null);
            })
            .ToList();

        var ended = run.Contains("endedAt");
        var approvals = whole ? await MongoApprovalStore.OfRunAsync(database, run["tenant"], runId, cancellationToken) : [];
        // A parent's view lists its forks and replays (docs/durability.md).
        var children = whole
            ? (await database.Runs.Find(new BsonDocument { ["parentRun"] = runId.ToString(), ["tenant"] = run["tenant"] })
                    .Sort(new BsonDocument("startedAt", 1)).Project(new BsonDocument { ["lineage"] = 1 }).ToListAsync(cancellationToken))
                .Select(child => (Id: Guid.Parse(child["_id"].AsString), Lineage: JsonSerializer.Deserialize<RunLineage>(child["lineage"].AsString, Json)!))
                .Select(child => new RunChild(child.Id, child.Lineage.Kind, child.Lineage.FromStep))
                .ToList()
            : [];
        return new RunView(
            runId, true, run["tenant"].AsString, Text(run, "agent"), Text(run, "goal"), Enum.Parse<RunStatus>(run["status"].AsString),
            Text(run, "answer"), Text(run, "reason"),
            ended ? new TokenUsage(run["inputTokens"].AsInt32, run["outputTokens"].AsInt32) : null,
            steps,
            ended ? Money(run, "cost") : null,
            Text(run, "user"),
            approvals.Count == 0 ? null : approvals,
            Text(run, "trigger") is { } trigger ? Enum.Parse<TriggerKind>(trigger) : null,
            Text(run, "triggerOrigin") is { } origin ? JsonSerializer.Deserialize<TriggerOrigin>(origin, Json) : null,
            // A summary of an earlier escalation says nothing about where the run waits now.
            run["status"].AsString == nameof(RunStatus.Escalated) && run.GetValue("escalationStep", BsonNull.Value) is BsonInt32 at
                && run.GetValue("steps", BsonNull.Value) is BsonInt32 stoppedAt && at.Value == stoppedAt.Value ? Text(run, "escalationSummary") : null,
            Text(run, "onlineEvaluation") is { } grades ? JsonSerializer.Deserialize<OnlineEvaluationView>(grades, Json) : null,
            ExtractionUsage(run),
            ExtractionCost(run),
            Lineage: Text(run, "lineage") is { } lineage ? JsonSerializer.Deserialize<RunLineage>(lineage, Json) : null,
            Children: children.Count == 0 ? null : children,
            Input: whole && Text(run, "input") is { } input ? JsonDocument.Parse(input).RootElement.Clone() : null);
    }

    private static TokenUsage? ExtractionUsage(BsonDocument run) =>
        run.GetValue("extraction", BsonNull.Value) is BsonDocument spent ? new TokenUsage(spent["inputTokens"].AsInt32, spent["outputTokens"].AsInt32) : null;

    private static decimal? ExtractionCost(BsonDocument run) =>
        run.GetValue("extraction", BsonNull.Value) is BsonDocument spent ? Money(spent, "cost") : null;

    private static BsonDocument StepKey(Guid runId, int step) => new("_id", $"{runId}:{step}");
}
