using System.Globalization;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.DataPipeline;

/// Tries a corrective migration on staging: staging is first made a fresh copy of production, then
/// the SQL runs in a transaction and the warehouse's data-quality checks run on the result. Staging
/// keeps the migrated data (query_warehouse on staging shows it) and remembers the migration and
/// whether it passed, which promote_migration requires.
public sealed class StageMigrationTool(Warehouse warehouse, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("stage_migration", "Applies a corrective SQL migration (SQLite) to a fresh copy of production (staging) and runs the warehouse's data-quality checks on the result. Returns the rows changed and each check's violations. Production is not touched.", ToolSchema.ClosedObject("""
        "name": { "type": "string", "pattern": "^[a-z0-9_]{3,80}$", "description": "A short name, for example fix_orders_amount_mapping." },
        "sql": { "type": "string", "minLength": 1, "maxLength": 8000, "description": "The migration: one or more SQL statements, without BEGIN or COMMIT (the tool runs them in a transaction)." }
        """, "name", "sql"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var name = arguments.GetProperty("name").GetString()!;
        var sql = arguments.GetProperty("sql").GetString()!;
        await warehouse.ResetStagingAsync(cancellationToken);
        await using var connection = await warehouse.OpenAsync(WarehouseDatabase.Staging, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var outcome = await Migrations.ApplyAsync(connection, transaction, sql, "staging", cancellationToken);

        await using var record = connection.CreateCommand();
        record.Transaction = transaction;
        record.CommandText = """
            CREATE TABLE IF NOT EXISTS staged_migration (name TEXT NOT NULL, sql TEXT NOT NULL, passed INTEGER NOT NULL, checks TEXT NOT NULL, run_id TEXT NOT NULL, staged_at TEXT NOT NULL);
            DELETE FROM staged_migration;
            INSERT INTO staged_migration (name, sql, passed, checks, run_id, staged_at) VALUES ($name, $sql, $passed, $checks, $run, $at);
            """;
        record.Parameters.AddWithValue("$name", name);
        record.Parameters.AddWithValue("$sql", sql);
        record.Parameters.AddWithValue("$passed", outcome.Passed ? 1 : 0);
        record.Parameters.AddWithValue("$checks", JsonSerializer.Serialize(outcome.Checks));
        record.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        record.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await record.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        return JsonSerializer.Serialize(new
        {
            migration = name,
            database = "staging",
            changed_rows = outcome.ChangedRows,
            passed = outcome.Passed,
            checks = outcome.Checks,
            next = outcome.Passed
                ? "Every check passes in staging: promote_migration with the same name and SQL applies it to production once a person approves."
                : $"Not ready for production, failing: {outcome.Failures}. Fix the migration and stage it again.",
        });
    }
}

/// Applies the migration that passed in staging to production, once a person has approved the call
/// (the agent's needs_approval). Inside one transaction it applies the SQL, runs the checks again on
/// production's data and commits only when every one passes: production may have moved on since
/// staging (another load ran), and a migration that would leave it failing is refused and rolled back.
public sealed class PromoteMigrationTool(Warehouse warehouse, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("promote_migration", "Applies a migration that passed in staging to production, re-running the data-quality checks in the same transaction; it is rolled back and refused if any fails. Give the same name and SQL as the staged migration.", ToolSchema.ClosedObject("""
        "name": { "type": "string", "pattern": "^[a-z0-9_]{3,80}$", "description": "The staged migration's name." },
        "sql": { "type": "string", "minLength": 1, "maxLength": 8000, "description": "The staged migration's SQL, exactly as staged." }
        """, "name", "sql"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var name = arguments.GetProperty("name").GetString()!;
        var sql = arguments.GetProperty("sql").GetString()!;

        await using var connection = await warehouse.OpenAsync(WarehouseDatabase.Prod, cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var earlier = connection.CreateCommand())
        {
            // The same call delivered again (a redelivered message) promotes once.
            earlier.Transaction = transaction;
            earlier.CommandText = "SELECT id FROM migrations WHERE run_id = $run AND call_id = $call";
            earlier.Parameters.AddWithValue("$run", invocation.RunId.ToString());
            earlier.Parameters.AddWithValue("$call", invocation.CallId);
            if (await earlier.ExecuteScalarAsync(cancellationToken) is long id)
            {
                return $"Migration {name} is already in production (migration {id}).";
            }
        }

        await RequireStagedAsync(name, sql, cancellationToken);

        var outcome = await Migrations.ApplyAsync(connection, transaction, sql, "production", cancellationToken);
        if (!outcome.Passed)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new ToolException(ToolErrorKind.Failed,
                $"Refused: in production the migration {name} would leave checks failing ({outcome.Failures}); it was rolled back and production is unchanged. Production has changed since staging: stage the migration again.",
                causedByCaller: true);
        }

        await using var record = connection.CreateCommand();
        record.Transaction = transaction;
        record.CommandText = """
            INSERT INTO migrations (name, sql, run_id, call_id, promoted_at, checks) VALUES ($name, $sql, $run, $call, $at, $checks);
            SELECT last_insert_rowid();
            """;
        record.Parameters.AddWithValue("$name", name);
        record.Parameters.AddWithValue("$sql", sql);
        record.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        record.Parameters.AddWithValue("$call", invocation.CallId);
        record.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        record.Parameters.AddWithValue("$checks", JsonSerializer.Serialize(outcome.Checks));
        var migration = (long)(await record.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        // Staging follows production again, so the next migration is tried on what production holds.
        await warehouse.ResetStagingAsync(cancellationToken);
        return $"Promoted {name} to production as migration {migration}: {outcome.ChangedRows} rows changed, all {outcome.Checks.Count} checks pass ({string.Join(", ", outcome.Checks.Select(c => c.Name))}).";
    }

    private async Task RequireStagedAsync(string name, string sql, CancellationToken cancellationToken)
    {
        await using var staging = await warehouse.OpenAsync(WarehouseDatabase.Staging, readOnly: true, cancellationToken);
        await using var command = staging.CreateCommand();
        command.CommandText = "SELECT name, sql, passed FROM staged_migration";
        string? stagedName = null, stagedSql = null;
        var passed = false;
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                (stagedName, stagedSql, passed) = (reader.GetString(0), reader.GetString(1), reader.GetInt64(2) == 1);
            }
        }
        catch (SqliteException e) when (e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            // Staging was refreshed from production and nothing was staged since.
        }

        if (stagedName != name || stagedSql != sql)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"Refused: {name} with this SQL is not the migration staging holds{(stagedName is null ? " (none is staged)" : $" ({stagedName})")}. Stage it with stage_migration first; only what passed in staging goes to production.",
                causedByCaller: true);
        }

        if (!passed)
        {
            throw new ToolException(ToolErrorKind.Failed, $"Refused: {name} failed its checks in staging. Fix it and stage it again.", causedByCaller: true);
        }
    }
}
