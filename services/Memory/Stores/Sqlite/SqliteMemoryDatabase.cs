using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Memory;

/// The embedded database: one SQLite file, nothing to install, that the SQLite stores share (runs,
/// steps and outcomes; approvals; summaries; memory items; knowledge; the audit trail; artifacts). It owns the
/// file's schema, its connections and the process's one writer; the stores own their statements.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write gate must outlive the container's disposal: see _writeGate.")]
public sealed class SqliteMemoryDatabase
{
    // One writer at a time inside the process: SQLite allows one anyway, and a writer that finds the
    // file busy is made to sleep 150 ms by Microsoft.Data.Sqlite before trying again. Reads (WAL) go on.
    // Never disposed: the container disposes this singleton while the bus may still be stopping, and a
    // disposed gate strands its waiters (a consumer waiting here then kept the bus from ever stopping).
    // A SemaphoreSlim whose wait handle is never read holds nothing that needs disposing.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    private readonly string _connectionString;

    public SqliteMemoryDatabase(IOptions<MemoryOptions> options)
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

    /// One statement, as the process's one writer.
    internal async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
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

    /// Several statements in one transaction, as the process's one writer.
    internal async Task WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await write(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    internal async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
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
                CREATE INDEX IF NOT EXISTS outcomes_by_step ON outcomes (run_id, step, seq);
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
                CREATE TABLE IF NOT EXISTS approvals (
                  run_id TEXT NOT NULL, call_id TEXT NOT NULL, tenant_id TEXT NOT NULL, agent TEXT, step INTEGER NOT NULL,
                  tool TEXT, arguments TEXT, requested_at TEXT, expires_at TEXT,
                  approved INTEGER, decided_by TEXT, comment TEXT, decided_at TEXT,
                  PRIMARY KEY (run_id, call_id));
                CREATE INDEX IF NOT EXISTS approvals_waiting ON approvals (tenant_id, approved, requested_at);
                CREATE TABLE IF NOT EXISTS audit (
                  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                  source TEXT NOT NULL, run_id TEXT, target TEXT, detail TEXT);
                CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit (tenant_id, at, id);
                CREATE INDEX IF NOT EXISTS audit_by_run ON audit (tenant_id, run_id, at, id);
                CREATE TABLE IF NOT EXISTS artifact_runs (
                  run_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, unlisted INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS artifacts (
                  run_id TEXT NOT NULL, name TEXT NOT NULL, tenant_id TEXT NOT NULL, size INTEGER NOT NULL,
                  sha256 TEXT, content BLOB, left_out TEXT,
                  PRIMARY KEY (run_id, name));
                """);
        command.ExecuteNonQuery();

        // Files written before a column existed get it added; SQLite has no ADD COLUMN IF NOT EXISTS.
        // An older run then has no cost recorded (null), not a cost of zero.
        AddMissingColumns(connection, "steps", ("cache_hit", "INTEGER"), ("plan", "TEXT"), ("cost", "TEXT"), ("guidance", "TEXT"), ("guidance_by", "TEXT"),
            ("context_input_tokens", "INTEGER"), ("context_output_tokens", "INTEGER"), ("context_cost", "TEXT"));
        AddMissingColumns(connection, "runs", ("cost", "TEXT"), ("user_id", "TEXT"), ("trigger", "TEXT"), ("trigger_origin", "TEXT"),
            ("escalation_summary", "TEXT"), ("escalation_step", "INTEGER"), ("online_evaluation", "TEXT"),
            ("extraction_input_tokens", "INTEGER"), ("extraction_output_tokens", "INTEGER"), ("extraction_cost", "TEXT"),
            ("lineage", "TEXT"), ("parent_run_id", "TEXT"));
        // A parent's view lists its forks and replays (docs/durability.md).
        using (var index = Command(connection, "CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL"))
        {
            index.ExecuteNonQuery();
        }
        // A tool output kept out of line (docs/durability.md): its PayloadRef as JSON; output holds the preview.
        AddMissingColumns(connection, "outcomes", ("output_ref", "TEXT"));
        AddMissingColumns(connection, "approvals", ("assignee", "TEXT"), ("assigned_by", "TEXT"), ("assigned_at", "TEXT"));
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
    internal static string Money(decimal dollars) => dollars.ToString(CultureInfo.InvariantCulture);

    internal static decimal? Money(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : decimal.Parse(reader.GetString(ordinal), NumberStyles.Number, CultureInfo.InvariantCulture);

    internal static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    internal static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    internal static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    internal static JsonElement ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    internal static string Required(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        return value;
    }
}
