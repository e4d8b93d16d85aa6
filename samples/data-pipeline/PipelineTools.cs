using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.DataPipeline;

/// The recent runs of a pipeline (or of all of them), newest first, from production's run history.
public sealed class PipelineRunsTool(Warehouse warehouse) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("pipeline_runs", "Lists the recent runs of the warehouse's pipelines (orders_daily, customers_daily, dq_monitor), newest first: when each ran, its status, rows read and written, and its summary.", ToolSchema.ClosedObject("""
        "pipeline": { "type": "string", "pattern": "^[a-z_]{1,40}$", "description": "Only this pipeline's runs, for example orders_daily; every pipeline's when left out." },
        "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "How many runs, 10 when left out." }
        """));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await warehouse.OpenAsync(WarehouseDatabase.Prod, readOnly: true, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT run_id, pipeline, load_date, started_at, finished_at, status, rows_read, rows_written, message FROM pipeline_runs
            WHERE $pipeline IS NULL OR pipeline = $pipeline ORDER BY started_at DESC, run_id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$pipeline", arguments.TryGetProperty("pipeline", out var p) ? p.GetString() : DBNull.Value);
        command.Parameters.AddWithValue("$limit", arguments.TryGetProperty("limit", out var l) ? l.GetInt32() : 10);
        return JsonSerializer.Serialize(new { runs = await WarehouseRows.ReadAsync(command, cancellationToken) });
    }
}

/// A run's log lines, or the warnings and errors of a pipeline's recent runs.
public sealed class PipelineLogsTool(Warehouse warehouse) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("pipeline_logs", "Reads the log lines of one pipeline run (run), or of a pipeline's recent runs (pipeline), oldest first; min_level WARN keeps only warnings and errors.", ToolSchema.ClosedObject("""
        "run": { "type": "string", "pattern": "^[a-z_]{1,40}-[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "A run's id, for example orders_daily-2026-12-03." },
        "pipeline": { "type": "string", "pattern": "^[a-z_]{1,40}$", "description": "A pipeline, for example orders_daily: the lines of its last 10 runs." },
        "min_level": { "type": "string", "enum": ["INFO", "WARN", "ERROR"], "description": "The least severe level shown, INFO when left out." }
        """));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var runId = arguments.TryGetProperty("run", out var r) ? r.GetString() : null;
        var pipeline = arguments.TryGetProperty("pipeline", out var p) ? p.GetString() : null;
        if ((runId is null) == (pipeline is null))
        {
            throw new ToolException(ToolErrorKind.InvalidArguments, "Name either a run or a pipeline, not both and not neither.", causedByCaller: true);
        }

        await using var connection = await warehouse.OpenAsync(WarehouseDatabase.Prod, readOnly: true, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT l.run_id, l.at, l.level, l.message FROM pipeline_logs l
            WHERE (l.run_id = $run OR l.run_id IN (SELECT run_id FROM pipeline_runs WHERE pipeline = $pipeline ORDER BY started_at DESC LIMIT 10))
              AND CASE l.level WHEN 'ERROR' THEN 3 WHEN 'WARN' THEN 2 ELSE 1 END >= CASE $level WHEN 'ERROR' THEN 3 WHEN 'WARN' THEN 2 ELSE 1 END
            ORDER BY l.at, l.id
            """;
        command.Parameters.AddWithValue("$run", (object?)runId ?? DBNull.Value);
        command.Parameters.AddWithValue("$pipeline", (object?)pipeline ?? DBNull.Value);
        command.Parameters.AddWithValue("$level", arguments.TryGetProperty("min_level", out var level) ? level.GetString() : "INFO");
        var lines = await WarehouseRows.ReadAsync(command, cancellationToken);
        if (lines.Count == 0 && runId is not null)
        {
            throw new ToolException(ToolErrorKind.Failed, $"There is no run {runId}, or it logged nothing at that level.", causedByCaller: true);
        }

        return JsonSerializer.Serialize(new { lines });
    }
}

/// The columns of the warehouse's tables (name, type, NOT NULL, key) and their row counts.
public sealed class DescribeSchemaTool(Warehouse warehouse) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("describe_schema", "Describes tables of the warehouse as they are now: each column's name, type, whether it is NOT NULL or part of the primary key, and the table's row count.", ToolSchema.ClosedObject("""
        "tables": { "type": "array", "items": { "type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$" }, "maxItems": 20, "description": "The tables, for example [\"src_orders\", \"fact_orders\"]; every table when left out." },
        "database": { "type": "string", "enum": ["prod", "staging"], "description": "prod (the default) or staging." }
        """));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var database = WarehouseRows.DatabaseOf(arguments);
        await using var connection = await warehouse.OpenAsync(database, readOnly: true, cancellationToken);
        var all = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                all.Add(reader.GetString(0));
            }
        }

        var wanted = arguments.TryGetProperty("tables", out var t) ? t.EnumerateArray().Select(e => e.GetString()!).ToList() : all;
        if (wanted.FirstOrDefault(name => !all.Contains(name)) is { } unknown)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The {database.ToString().ToLowerInvariant()} warehouse has no table {unknown}; it has {string.Join(", ", all)}.", causedByCaller: true);
        }

        var tables = new List<object>();
        foreach (var table in wanted)
        {
            // The name is one of sqlite_master's, so quoting it is enough.
            await using var columns = connection.CreateCommand();
            columns.CommandText = $"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid";
            var described = new List<object>();
            await using (var reader = await columns.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    described.Add(new { name = reader.GetString(0), type = reader.GetString(1), not_null = reader.GetInt64(2) == 1, primary_key = reader.GetInt64(3) > 0 });
                }
            }

            await using var count = connection.CreateCommand();
            count.CommandText = $"SELECT count(*) FROM \"{table}\"";
            tables.Add(new { table, rows = (long)(await count.ExecuteScalarAsync(cancellationToken))!, columns = described });
        }

        return JsonSerializer.Serialize(new { database = database.ToString().ToLowerInvariant(), tables });
    }
}

/// Any read-only SQL on production or staging: the connection is opened read-only, so a write is
/// refused by SQLite itself. At most 50 rows come back.
public sealed class QueryWarehouseTool(Warehouse warehouse) : ITool
{
    private const int MaxRows = 50;

    public static readonly ToolDescriptor Descriptor = new("query_warehouse", "Runs a read-only SQL query (SQLite) on the warehouse, production or staging, and returns at most 50 rows. Writes are refused: change data only with stage_migration.", ToolSchema.ClosedObject("""
        "sql": { "type": "string", "minLength": 1, "maxLength": 4000, "description": "One SELECT (or WITH ... SELECT) statement." },
        "database": { "type": "string", "enum": ["prod", "staging"], "description": "prod (the default) or staging." }
        """, "sql"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await warehouse.OpenAsync(WarehouseRows.DatabaseOf(arguments), readOnly: true, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = arguments.GetProperty("sql").GetString()!;
        try
        {
            var rows = await WarehouseRows.ReadAsync(command, cancellationToken, MaxRows + 1);
            return JsonSerializer.Serialize(new { rows = rows.Take(MaxRows), truncated = rows.Count > MaxRows });
        }
        catch (SqliteException e)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The query failed: {e.Message}", causedByCaller: true);
        }
    }
}

internal static class WarehouseRows
{
    public static WarehouseDatabase DatabaseOf(JsonElement arguments) =>
        arguments.TryGetProperty("database", out var d) && d.GetString() == "staging" ? WarehouseDatabase.Staging : WarehouseDatabase.Prod;

    public static async Task<List<Dictionary<string, object?>>> ReadAsync(SqliteCommand command, CancellationToken cancellationToken, int max = int.MaxValue)
    {
        var rows = new List<Dictionary<string, object?>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (rows.Count < max && await reader.ReadAsync(cancellationToken))
        {
            var row = new Dictionary<string, object?>();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
