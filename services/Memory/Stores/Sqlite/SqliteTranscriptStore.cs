using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// Each run's transcript in the embedded database: runs, steps and tool outcomes (decision 0014).
public sealed class SqliteTranscriptStore(SqliteMemoryDatabase database) : ITranscriptStore
{
    /// The database it keeps the transcripts in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task StartRunAsync(RunStart start, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            $"""
            INSERT INTO runs (run_id, tenant_id, agent, goal, input, status, started_at, user_id, trigger, trigger_origin, lineage, parent_run_id)
            VALUES ($run, $tenant, $agent, $goal, $input, '{nameof(RunStatus.Running)}', $at, $user, $trigger, $origin, $lineage, $parent)
            ON CONFLICT (run_id) DO UPDATE SET
              lineage = coalesce(runs.lineage, excluded.lineage),
              parent_run_id = coalesce(runs.parent_run_id, excluded.parent_run_id),
              agent = coalesce(runs.agent, excluded.agent),
              trigger = coalesce(runs.trigger, excluded.trigger),
              trigger_origin = coalesce(runs.trigger_origin, excluded.trigger_origin),
              user_id = coalesce(runs.user_id, excluded.user_id),
              goal = coalesce(runs.goal, excluded.goal),
              input = coalesce(runs.input, excluded.input),
              started_at = coalesce(runs.started_at, excluded.started_at)
            """,
            cancellationToken,
            ("$run", start.RunId.ToString()), ("$tenant", start.TenantId), ("$agent", start.Agent),
            ("$goal", start.Goal), ("$input", start.InputJson), ("$at", Timestamp(start.At)), ("$user", start.UserId),
            ("$trigger", start.Trigger?.ToString()), ("$origin", start.Origin is null ? null : JsonSerializer.Serialize(start.Origin, Json)),
            ("$lineage", start.Lineage is null ? null : JsonSerializer.Serialize(start.Lineage, Json)), ("$parent", start.Lineage?.ParentRunId.ToString()));

    public Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, planned, thought, tool_calls, final_answer, input_tokens, output_tokens, model, cache_hit, plan, cost,
              context_input_tokens, context_output_tokens, context_cost)
            VALUES ($run, $step, 1, $thought, $calls, $answer, $in, $out, $model, $cached, $plan, $cost, $contextIn, $contextOut, $contextCost)
            ON CONFLICT (run_id, step) DO UPDATE SET
              planned = 1, thought = excluded.thought, tool_calls = excluded.tool_calls, final_answer = excluded.final_answer,
              input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, model = excluded.model,
              cache_hit = excluded.cache_hit, plan = excluded.plan, cost = excluded.cost,
              context_input_tokens = excluded.context_input_tokens, context_output_tokens = excluded.context_output_tokens, context_cost = excluded.context_cost
            """,
            cancellationToken,
            ("$run", step.RunId.ToString()), ("$step", step.Step), ("$thought", step.Thought),
            ("$calls", JsonSerializer.Serialize(step.ToolCalls, Json)), ("$answer", step.FinalAnswer),
            ("$in", step.Usage.InputTokens), ("$out", step.Usage.OutputTokens), ("$model", step.Model), ("$cached", step.CacheHit ? 1 : 0),
            ("$plan", step.Plan is null ? null : JsonSerializer.Serialize(step.Plan, Json)),
            ("$cost", Money(step.Cost)),
            ("$contextIn", step.ContextUsage?.InputTokens), ("$contextOut", step.ContextUsage?.OutputTokens),
            ("$contextCost", step.ContextUsage is null ? null : Money(step.ContextCost)));

    public Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                for (var i = 0; i < result.Outcomes.Count; i++)
                {
                    var outcome = result.Outcomes[i];
                    await using var command = Command(
                        connection,
                        """
                        INSERT INTO outcomes (run_id, step, call_id, seq, tool, arguments, output, error_kind, error, duration_ms, output_ref)
                        VALUES ($run, $step, $call, $seq, $tool, $args, $output, $kind, $error, $ms, $ref)
                        ON CONFLICT (run_id, call_id) DO NOTHING
                        """,
                        ("$run", result.RunId.ToString()), ("$step", result.Step), ("$call", outcome.CallId), ("$seq", i),
                        ("$tool", outcome.Tool), ("$args", outcome.Arguments.GetRawText()), ("$output", outcome.Output),
                        ("$kind", outcome.ErrorKind.ToString()), ("$error", outcome.Error), ("$ms", outcome.Duration.TotalMilliseconds),
                        ("$ref", outcome.OutputRef is { } reference ? JsonSerializer.Serialize(reference, Json) : null));
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            },
            cancellationToken);

    public Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, verdict, verdict_reason) VALUES ($run, $step, $verdict, $reason)
            ON CONFLICT (run_id, step) DO UPDATE SET verdict = excluded.verdict, verdict_reason = excluded.verdict_reason
            """,
            cancellationToken,
            ("$run", verdict.RunId.ToString()), ("$step", verdict.Step), ("$verdict", verdict.Verdict.ToString()), ("$reason", verdict.Reason));

    public Task EndRunAsync(RunEnd end, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO runs (run_id, tenant_id, agent, status, answer, reason, steps, input_tokens, output_tokens, cost, ended_at)
            VALUES ($run, $tenant, $agent, $status, $answer, $reason, $steps, $in, $out, $cost, $at)
            ON CONFLICT (run_id) DO UPDATE SET
              status = excluded.status, answer = excluded.answer, reason = excluded.reason, steps = excluded.steps,
              input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost = excluded.cost, ended_at = excluded.ended_at
            """,
            cancellationToken,
            ("$run", end.RunId.ToString()), ("$tenant", end.TenantId), ("$agent", end.Agent), ("$status", end.Status.ToString()),
            ("$answer", end.Answer), ("$reason", end.Reason), ("$steps", end.Steps),
            ("$in", end.Usage.InputTokens), ("$out", end.Usage.OutputTokens), ("$cost", Money(end.TotalCost)), ("$at", Timestamp(end.At)));

    public Task RecordExtractionAsync(Guid runId, TokenUsage usage, decimal cost, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            UPDATE runs SET extraction_input_tokens = $in, extraction_output_tokens = $out, extraction_cost = $cost
            WHERE run_id = $run AND extraction_cost IS NULL
            """,
            cancellationToken,
            ("$run", runId.ToString()), ("$in", usage.InputTokens), ("$out", usage.OutputTokens), ("$cost", Money(cost)));

    public async Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken)
    {
        await database.ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, guidance, guidance_by) VALUES ($run, $step, $text, $by)
            ON CONFLICT (run_id, step) DO UPDATE SET
              guidance = coalesce(steps.guidance, excluded.guidance),
              guidance_by = coalesce(steps.guidance_by, excluded.guidance_by)
            """,
            cancellationToken,
            ("$run", runId.ToString()), ("$step", afterStep), ("$text", guidance.Text), ("$by", guidance.By));
        await database.ExecuteAsync(
            $"""
            INSERT INTO runs (run_id, tenant_id, status) VALUES ($run, $tenant, '{nameof(RunStatus.Running)}')
            ON CONFLICT (run_id) DO UPDATE SET status = '{nameof(RunStatus.Running)}', reason = NULL, ended_at = NULL WHERE runs.status = '{nameof(RunStatus.Escalated)}'
            """,
            cancellationToken,
            ("$run", runId.ToString()), ("$tenant", tenantId));
    }

    // The summary may come before Memory records the escalation itself (they travel on different queues).
    public Task RecordEscalationSummaryAsync(EscalationSummarized summary, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            $"""
            INSERT INTO runs (run_id, tenant_id, status, escalation_summary, escalation_step) VALUES ($run, $tenant, '{nameof(RunStatus.Escalated)}', $summary, $step)
            ON CONFLICT (run_id) DO UPDATE SET escalation_summary = excluded.escalation_summary, escalation_step = excluded.escalation_step
            WHERE runs.escalation_step IS NULL OR runs.escalation_step <= excluded.escalation_step
            """,
            cancellationToken,
            ("$run", summary.RunId.ToString()), ("$tenant", summary.TenantId), ("$summary", summary.Summary), ("$step", summary.Step));

    // Grades follow the end of the run, which the Evaluator read from Memory; should they still come
    // first (another Memory replica, a lagging queue), the run is Completed: only completed runs are graded.
    public Task RecordOnlineEvaluationAsync(RunGraded graded, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            $"""
            INSERT INTO runs (run_id, tenant_id, agent, status, online_evaluation) VALUES ($run, $tenant, $agent, '{nameof(RunStatus.Completed)}', $grades)
            ON CONFLICT (run_id) DO UPDATE SET online_evaluation = coalesce(runs.online_evaluation, excluded.online_evaluation)
            """,
            cancellationToken,
            ("$run", graded.RunId.ToString()), ("$tenant", graded.TenantId), ("$agent", graded.Agent),
            ("$grades", JsonSerializer.Serialize(new OnlineEvaluationView(graded.Score, graded.Grades, graded.GradedAt, graded.Sequence), Json)));

    public Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken) => ReadRunAsync(null, runId, cancellationToken);

    public Task<RunView> GetRecentAsync(Guid runId, int afterStep, CancellationToken cancellationToken) =>
        ReadRunAsync(null, runId, cancellationToken, afterStep, whole: false);

    // Steps and outcomes are keyed by run id alone: a run id belongs to one tenant, and the tenant
    // is checked on the run's row before any of them is read.
    public Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        return ReadRunAsync(tenantId, runId, cancellationToken);
    }

    public async Task<IReadOnlyList<RunSummary>> ListAsync(ListRuns query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // ISO 8601 UTC timestamps of one format sort as text in time order.
        await using var command = Command(connection,
            """
            SELECT run_id, agent, goal, status, trigger, started_at, ended_at, steps, input_tokens, output_tokens, cost FROM runs
            WHERE tenant_id = $tenant AND ($agent IS NULL OR agent = $agent) AND ($status IS NULL OR status = $status)
              AND ($trigger IS NULL OR trigger = $trigger) AND ($since IS NULL OR started_at >= $since)
            ORDER BY started_at IS NULL, started_at DESC LIMIT $limit
            """,
            ("$tenant", Required(query.TenantId)), ("$agent", query.Agent), ("$status", query.Status?.ToString()),
            ("$trigger", query.Trigger?.ToString()), ("$since", query.Since is { } since ? Timestamp(since) : null), ("$limit", query.Limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<RunSummary>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var ended = !reader.IsDBNull(6);
            runs.Add(new RunSummary(
                Guid.Parse(reader.GetString(0)),
                NullableString(reader, 1),
                NullableString(reader, 2),
                Enum.Parse<RunStatus>(reader.GetString(3)),
                reader.IsDBNull(4) ? null : Enum.Parse<TriggerKind>(reader.GetString(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture),
                ended ? DateTimeOffset.Parse(reader.GetString(6), CultureInfo.InvariantCulture) : null,
                ended && !reader.IsDBNull(7) ? reader.GetInt32(7) : null,
                ended ? new TokenUsage(reader.GetInt32(8), reader.GetInt32(9)) : null,
                ended ? Money(reader, 10) : null));
        }

        return runs;
    }

    public async Task<IReadOnlyList<AgentDayTotals>> TotalsAsync(GetRunTotals query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Dollars are decimal text, which SUM would turn into REAL: the rows are read and added up exactly.
        await using var command = Command(connection,
            """
            SELECT agent, coalesce(started_at, ended_at), status, ended_at IS NOT NULL, input_tokens, output_tokens, cost,
              extraction_input_tokens, extraction_output_tokens, extraction_cost FROM runs
            WHERE tenant_id = $tenant AND agent IS NOT NULL AND ($agent IS NULL OR agent = $agent)
              AND ((started_at >= $since AND started_at < $until) OR (started_at IS NULL AND ended_at >= $since AND ended_at < $until))
            """,
            ("$tenant", Required(query.TenantId)), ("$agent", query.Agent), ("$since", Timestamp(query.Since)), ("$until", Timestamp(query.Until)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<CountedRun>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var ended = reader.GetBoolean(3);
            var extraction = reader.IsDBNull(9) ? null : new TokenUsage(reader.GetInt32(7), reader.GetInt32(8));
            runs.Add(new CountedRun(
                reader.GetString(0),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                Enum.Parse<RunStatus>(reader.GetString(2)),
                ended ? new TokenUsage(reader.GetInt32(4), reader.GetInt32(5)) : null,
                ended ? Money(reader, 6) : null,
                extraction,
                Money(reader, 9)));
        }

        return RunTotalsTally.Of(runs);
    }

    private async Task<RunView> ReadRunAsync(string? tenantId, Guid runId, CancellationToken cancellationToken, int afterStep = 0, bool whole = true)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var run = runId.ToString();

        await using var runCommand = Command(connection,
            "SELECT tenant_id, agent, goal, status, answer, reason, input_tokens, output_tokens, ended_at, cost, user_id, trigger, trigger_origin, escalation_summary, escalation_step, steps, online_evaluation, extraction_input_tokens, extraction_output_tokens, extraction_cost, lineage, input FROM runs WHERE run_id = $run AND ($tenant IS NULL OR tenant_id = $tenant)",
            ("$run", run), ("$tenant", tenantId));
        await using var runReader = await runCommand.ExecuteReaderAsync(cancellationToken);
        if (!await runReader.ReadAsync(cancellationToken))
        {
            return RunView.NotFound(runId);
        }

        var ended = !runReader.IsDBNull(8);
        var header = (
            Tenant: runReader.GetString(0),
            Agent: NullableString(runReader, 1),
            Goal: NullableString(runReader, 2),
            Status: Enum.Parse<RunStatus>(runReader.GetString(3)),
            Answer: NullableString(runReader, 4),
            Reason: NullableString(runReader, 5),
            Usage: ended ? new TokenUsage(runReader.GetInt32(6), runReader.GetInt32(7)) : null,
            Cost: ended ? Money(runReader, 9) : null,
            User: NullableString(runReader, 10),
            Trigger: runReader.IsDBNull(11) ? (TriggerKind?)null : Enum.Parse<TriggerKind>(runReader.GetString(11)),
            Origin: runReader.IsDBNull(12) ? null : JsonSerializer.Deserialize<TriggerOrigin>(runReader.GetString(12), Json),
            // A summary of an earlier escalation says nothing about where the run waits now.
            EscalationSummary: runReader.GetString(3) == nameof(RunStatus.Escalated) && !runReader.IsDBNull(14) && !runReader.IsDBNull(15) && runReader.GetInt32(14) == runReader.GetInt32(15)
                ? NullableString(runReader, 13) : null,
            OnlineEvaluation: runReader.IsDBNull(16) ? null : JsonSerializer.Deserialize<OnlineEvaluationView>(runReader.GetString(16), Json),
            Extraction: runReader.IsDBNull(19) ? null : new TokenUsage(runReader.GetInt32(17), runReader.GetInt32(18)),
            ExtractionCost: Money(runReader, 19),
            Lineage: runReader.IsDBNull(20) ? null : JsonSerializer.Deserialize<RunLineage>(runReader.GetString(20), Json),
            Input: !whole || runReader.IsDBNull(21) ? (JsonElement?)null : ParseJson(runReader.GetString(21)));

        var outcomes = new Dictionary<int, List<ToolOutcome>>();
        await using (var outcomeCommand = Command(connection,
            "SELECT step, call_id, tool, arguments, output, error_kind, error, duration_ms, output_ref FROM outcomes WHERE run_id = $run AND step > $after ORDER BY step, seq",
            ("$run", run), ("$after", afterStep)))
        await using (var reader = await outcomeCommand.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var outcome = new ToolOutcome(
                    reader.GetString(1),
                    reader.GetString(2),
                    ParseJson(reader.GetString(3)),
                    reader.GetString(4),
                    Enum.Parse<ToolErrorKind>(reader.GetString(5)),
                    NullableString(reader, 6),
                    TimeSpan.FromMilliseconds(reader.GetDouble(7)),
                    reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<PayloadRef>(reader.GetString(8), Json));
                outcomes.TryAdd(reader.GetInt32(0), []);
                outcomes[reader.GetInt32(0)].Add(outcome);
            }
        }

        var steps = new List<StepView>();
        await using (var stepCommand = Command(connection,
            "SELECT step, planned, thought, tool_calls, final_answer, input_tokens, output_tokens, model, verdict, verdict_reason, cache_hit, plan, cost, guidance, guidance_by, context_input_tokens, context_output_tokens, context_cost FROM steps WHERE run_id = $run AND step > $after ORDER BY step",
            ("$run", run), ("$after", afterStep)))
        await using (var reader = await stepCommand.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var number = reader.GetInt32(0);
                var planned = reader.GetInt32(1) == 1;
                steps.Add(new StepView(
                    number,
                    NullableString(reader, 2),
                    planned ? JsonSerializer.Deserialize<List<ToolCall>>(reader.GetString(3), Json)! : [],
                    outcomes.GetValueOrDefault(number) ?? [],
                    NullableString(reader, 4),
                    reader.IsDBNull(8) ? null : Enum.Parse<Verdict>(reader.GetString(8)),
                    NullableString(reader, 9),
                    planned ? new TokenUsage(reader.GetInt32(5), reader.GetInt32(6)) : null,
                    NullableString(reader, 7),
                    !reader.IsDBNull(10) && reader.GetInt32(10) == 1,
                    reader.IsDBNull(11) ? null : JsonSerializer.Deserialize<Plan>(reader.GetString(11), Json),
                    planned ? Money(reader, 12) : null,
                    reader.IsDBNull(13) ? null : new Guidance(reader.GetString(13), NullableString(reader, 14) ?? ""),
                    reader.IsDBNull(15) ? null : new TokenUsage(reader.GetInt32(15), reader.GetInt32(16)),
                    Money(reader, 17)));
            }
        }

        // A parent's view lists its forks and replays (docs/durability.md).
        var children = new List<RunChild>();
        if (whole)
        {
            await using var childCommand = Command(connection,
                "SELECT run_id, lineage FROM runs WHERE parent_run_id = $run AND tenant_id = $tenant ORDER BY started_at",
                ("$run", run), ("$tenant", header.Tenant));
            await using var reader = await childCommand.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var lineage = JsonSerializer.Deserialize<RunLineage>(reader.GetString(1), Json)!;
                children.Add(new RunChild(Guid.Parse(reader.GetString(0)), lineage.Kind, lineage.FromStep));
            }
        }

        var approvals = whole ? await SqliteApprovalStore.OfRunAsync(connection, run, cancellationToken) : [];
        return new RunView(runId, true, header.Tenant, header.Agent, header.Goal, header.Status, header.Answer, header.Reason, header.Usage, steps, header.Cost,
            header.User, approvals.Count == 0 ? null : approvals, header.Trigger, header.Origin, header.EscalationSummary, header.OnlineEvaluation, header.Extraction, header.ExtractionCost,
            Lineage: header.Lineage, Children: children.Count == 0 ? null : children, Input: header.Input);
    }
}
