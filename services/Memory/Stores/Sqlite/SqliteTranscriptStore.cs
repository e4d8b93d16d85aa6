using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Memory;

/// The embedded store: transcripts, long-term memory items and knowledge chunks in one SQLite
/// file, nothing to install. (The name predates the memory items and knowledge, in the partial
/// files beside this one; it is kept so that its callers do not change.)
public sealed partial class SqliteTranscriptStore : ITranscriptStore, IApprovalStore, ISummaryStore, IMemoryItemStore, IKnowledgeStore, IDisposable
{
    // One writer at a time inside the process: SQLite allows one anyway, and a writer that finds the
    // file busy is made to sleep 150 ms by Microsoft.Data.Sqlite before trying again. Reads (WAL) go on.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _connectionString;

    public SqliteTranscriptStore(IOptions<MemoryOptions> options)
    {
        var builder = new SqliteConnectionStringBuilder(options.Value.SqliteConnectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        builder.DefaultTimeout = 30;
        _connectionString = builder.ToString();
        CreateSchema();
    }

    public Task StartRunAsync(RunStart start, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO runs (run_id, tenant_id, agent, goal, input, status, started_at, user_id)
            VALUES ($run, $tenant, $agent, $goal, $input, 'Running', $at, $user)
            ON CONFLICT (run_id) DO UPDATE SET
              agent = coalesce(runs.agent, excluded.agent),
              user_id = coalesce(runs.user_id, excluded.user_id),
              goal = coalesce(runs.goal, excluded.goal),
              input = coalesce(runs.input, excluded.input),
              started_at = coalesce(runs.started_at, excluded.started_at)
            """,
            cancellationToken,
            ("$run", start.RunId.ToString()), ("$tenant", start.TenantId), ("$agent", start.Agent),
            ("$goal", start.Goal), ("$input", start.InputJson), ("$at", Timestamp(start.At)), ("$user", start.UserId));

    public Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, planned, thought, tool_calls, final_answer, input_tokens, output_tokens, model, cache_hit, plan, cost)
            VALUES ($run, $step, 1, $thought, $calls, $answer, $in, $out, $model, $cached, $plan, $cost)
            ON CONFLICT (run_id, step) DO UPDATE SET
              planned = 1, thought = excluded.thought, tool_calls = excluded.tool_calls, final_answer = excluded.final_answer,
              input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, model = excluded.model,
              cache_hit = excluded.cache_hit, plan = excluded.plan, cost = excluded.cost
            """,
            cancellationToken,
            ("$run", step.RunId.ToString()), ("$step", step.Step), ("$thought", step.Thought),
            ("$calls", JsonSerializer.Serialize(step.ToolCalls, Json)), ("$answer", step.FinalAnswer),
            ("$in", step.Usage.InputTokens), ("$out", step.Usage.OutputTokens), ("$model", step.Model), ("$cached", step.CacheHit ? 1 : 0),
            ("$plan", step.Plan is null ? null : JsonSerializer.Serialize(step.Plan, Json)),
            ("$cost", Money(step.Cost)));

    public async Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await RecordToolResultLockedAsync(result, cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task RecordToolResultLockedAsync(ToolResult result, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        for (var i = 0; i < result.Outcomes.Count; i++)
        {
            var outcome = result.Outcomes[i];
            await using var command = Command(
                connection,
                """
                INSERT INTO outcomes (run_id, step, call_id, seq, tool, arguments, output, error_kind, error, duration_ms)
                VALUES ($run, $step, $call, $seq, $tool, $args, $output, $kind, $error, $ms)
                ON CONFLICT (run_id, call_id) DO NOTHING
                """,
                ("$run", result.RunId.ToString()), ("$step", result.Step), ("$call", outcome.CallId), ("$seq", i),
                ("$tool", outcome.Tool), ("$args", outcome.Arguments.GetRawText()), ("$output", outcome.Output),
                ("$kind", outcome.ErrorKind.ToString()), ("$error", outcome.Error), ("$ms", outcome.Duration.TotalMilliseconds));
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, verdict, verdict_reason) VALUES ($run, $step, $verdict, $reason)
            ON CONFLICT (run_id, step) DO UPDATE SET verdict = excluded.verdict, verdict_reason = excluded.verdict_reason
            """,
            cancellationToken,
            ("$run", verdict.RunId.ToString()), ("$step", verdict.Step), ("$verdict", verdict.Verdict.ToString()), ("$reason", verdict.Reason));

    public Task EndRunAsync(RunEnd end, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO runs (run_id, tenant_id, agent, status, answer, reason, steps, input_tokens, output_tokens, cost, ended_at)
            VALUES ($run, $tenant, $agent, $status, $answer, $reason, $steps, $in, $out, $cost, $at)
            ON CONFLICT (run_id) DO UPDATE SET
              status = excluded.status, answer = excluded.answer, reason = excluded.reason, steps = excluded.steps,
              input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost = excluded.cost, ended_at = excluded.ended_at
            """,
            cancellationToken,
            ("$run", end.RunId.ToString()), ("$tenant", end.TenantId), ("$agent", end.Agent), ("$status", end.Status),
            ("$answer", end.Answer), ("$reason", end.Reason), ("$steps", end.Steps),
            ("$in", end.Usage.InputTokens), ("$out", end.Usage.OutputTokens), ("$cost", Money(end.TotalCost)), ("$at", Timestamp(end.At)));

    public async Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            """
            INSERT INTO steps (run_id, step, guidance, guidance_by) VALUES ($run, $step, $text, $by)
            ON CONFLICT (run_id, step) DO UPDATE SET
              guidance = coalesce(steps.guidance, excluded.guidance),
              guidance_by = coalesce(steps.guidance_by, excluded.guidance_by)
            """,
            cancellationToken,
            ("$run", runId.ToString()), ("$step", afterStep), ("$text", guidance.Text), ("$by", guidance.By));
        await ExecuteAsync(
            """
            INSERT INTO runs (run_id, tenant_id, status) VALUES ($run, $tenant, 'Running')
            ON CONFLICT (run_id) DO UPDATE SET status = 'Running', reason = NULL, ended_at = NULL WHERE runs.status = 'Escalated'
            """,
            cancellationToken,
            ("$run", runId.ToString()), ("$tenant", tenantId));
    }

    public Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken) => ReadRunAsync(null, runId, cancellationToken);

    // Steps and outcomes are keyed by run id alone: a run id belongs to one tenant, and the tenant
    // is checked on the run's row before any of them is read.
    public Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        return ReadRunAsync(tenantId, runId, cancellationToken);
    }

    private async Task<RunView> ReadRunAsync(string? tenantId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var run = runId.ToString();

        await using var runCommand = Command(connection,
            "SELECT tenant_id, agent, goal, status, answer, reason, input_tokens, output_tokens, ended_at, cost, user_id FROM runs WHERE run_id = $run AND ($tenant IS NULL OR tenant_id = $tenant)",
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
            Status: runReader.GetString(3),
            Answer: NullableString(runReader, 4),
            Reason: NullableString(runReader, 5),
            Usage: ended ? new TokenUsage(runReader.GetInt32(6), runReader.GetInt32(7)) : null,
            Cost: ended ? Money(runReader, 9) : null,
            User: NullableString(runReader, 10));

        var outcomes = new Dictionary<int, List<ToolOutcome>>();
        await using (var outcomeCommand = Command(connection,
            "SELECT step, call_id, tool, arguments, output, error_kind, error, duration_ms FROM outcomes WHERE run_id = $run ORDER BY step, seq",
            ("$run", run)))
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
                    TimeSpan.FromMilliseconds(reader.GetDouble(7)));
                outcomes.TryAdd(reader.GetInt32(0), []);
                outcomes[reader.GetInt32(0)].Add(outcome);
            }
        }

        var steps = new List<StepView>();
        await using (var stepCommand = Command(connection,
            "SELECT step, planned, thought, tool_calls, final_answer, input_tokens, output_tokens, model, verdict, verdict_reason, cache_hit, plan, cost, guidance, guidance_by FROM steps WHERE run_id = $run ORDER BY step",
            ("$run", run)))
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
                    reader.IsDBNull(13) ? null : new Guidance(reader.GetString(13), NullableString(reader, 14) ?? "")));
            }
        }

        var approvals = await ApprovalsOfRunAsync(connection, run, cancellationToken);
        return new RunView(runId, true, header.Tenant, header.Agent, header.Goal, header.Status, header.Answer, header.Reason, header.Usage, steps, header.Cost,
            header.User, approvals.Count == 0 ? null : approvals);
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = Command(connection, sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose() => _writeGate.Dispose();

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // With WAL, NORMAL keeps the file consistent through a crash and skips an fsync per commit;
        // at worst the last transcript writes before a power loss are lost. It is per connection.
        await using var pragma = Command(connection, "PRAGMA synchronous = NORMAL;");
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private void CreateSchema()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = Command(connection,
            """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS runs (
                  run_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, agent TEXT, goal TEXT, input TEXT,
                  status TEXT NOT NULL, answer TEXT, reason TEXT, steps INTEGER,
                  input_tokens INTEGER, output_tokens INTEGER, started_at TEXT, ended_at TEXT);
                CREATE INDEX IF NOT EXISTS runs_by_tenant ON runs (tenant_id, started_at);
                CREATE TABLE IF NOT EXISTS steps (
                  run_id TEXT NOT NULL, step INTEGER NOT NULL, planned INTEGER NOT NULL DEFAULT 0,
                  thought TEXT, tool_calls TEXT, final_answer TEXT, input_tokens INTEGER, output_tokens INTEGER, model TEXT,
                  verdict TEXT, verdict_reason TEXT, cache_hit INTEGER, plan TEXT,
                  PRIMARY KEY (run_id, step));
                CREATE TABLE IF NOT EXISTS outcomes (
                  run_id TEXT NOT NULL, step INTEGER NOT NULL, call_id TEXT NOT NULL, seq INTEGER NOT NULL,
                  tool TEXT NOT NULL, arguments TEXT NOT NULL, output TEXT NOT NULL, error_kind TEXT NOT NULL, error TEXT,
                  duration_ms REAL NOT NULL,
                  PRIMARY KEY (run_id, call_id));
                CREATE TABLE IF NOT EXISTS memory_items (
                  tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL,
                  source_run TEXT, created_at TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  UNIQUE (tenant_id, user_id, id));
                CREATE INDEX IF NOT EXISTS memory_items_by_user ON memory_items (tenant_id, user_id, created_at);
                CREATE TABLE IF NOT EXISTS knowledge_chunks (
                  tenant_id TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, source_path TEXT NOT NULL,
                  position INTEGER NOT NULL, text TEXT NOT NULL, embedding BLOB,
                  PRIMARY KEY (tenant_id, collection, id));
                CREATE INDEX IF NOT EXISTS knowledge_chunks_in_order ON knowledge_chunks (tenant_id, collection, source_path, position);
                CREATE TABLE IF NOT EXISTS summaries (
                  run_id TEXT NOT NULL, through_step INTEGER NOT NULL, tenant_id TEXT NOT NULL, text TEXT NOT NULL,
                  model TEXT NOT NULL, created_at TEXT NOT NULL,
                  PRIMARY KEY (run_id, through_step));
                CREATE TABLE IF NOT EXISTS knowledge_collections (
                  tenant_id TEXT NOT NULL, name TEXT NOT NULL, embedder TEXT NOT NULL, dimensions INTEGER NOT NULL, version TEXT NOT NULL,
                  PRIMARY KEY (tenant_id, name));
                """);
        command.ExecuteNonQuery();
        using (var approvals = Command(connection, ApprovalsSchema))
        {
            approvals.ExecuteNonQuery();
        }

        // Files written before a column existed get it added; SQLite has no ADD COLUMN IF NOT EXISTS.
        // An older run then has no cost recorded (null), not a cost of zero.
        AddMissingColumns(connection, "steps", ("cache_hit", "INTEGER"), ("plan", "TEXT"), ("cost", "TEXT"), ("guidance", "TEXT"), ("guidance_by", "TEXT"));
        AddMissingColumns(connection, "runs", ("cost", "TEXT"), ("user_id", "TEXT"));
    }

    // One read of the table's columns, however many may be missing.
    private static void AddMissingColumns(SqliteConnection connection, string table, params (string Name, string Type)[] wanted)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        using (var columns = Command(connection, $"SELECT name FROM pragma_table_info('{table}')"))
        using (var reader = columns.ExecuteReader())
        {
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }

        foreach (var (name, type) in wanted.Where(column => !present.Contains(column.Name)))
        {
            using var add = Command(connection, $"ALTER TABLE {table} ADD COLUMN {name} {type}");
            add.ExecuteNonQuery();
        }
    }

    // Dollars are kept as decimal text: SQLite's REAL would round them, and totals must add up exactly.
    private static string Money(decimal dollars) => dollars.ToString(CultureInfo.InvariantCulture);

    private static decimal? Money(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : decimal.Parse(reader.GetString(ordinal), NumberStyles.Number, CultureInfo.InvariantCulture);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static JsonElement ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
