using System.Text.Json.Serialization;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Agentry.Samples.DataPipeline;

/// One data-quality check's result: how many rows break it (0: it passes).
public sealed record CheckResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("violations")] long Violations)
{
    [JsonPropertyName("passed")]
    public bool Passed => Violations == 0;
}

/// What applying a migration did, inside a transaction that the caller commits or rolls back.
public sealed record MigrationOutcome(int ChangedRows, IReadOnlyList<CheckResult> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);

    public string Failures => string.Join("; ", Checks.Where(c => !c.Passed).Select(c => $"{c.Name} ({c.Violations} violations)"));
}

/// Applies a migration inside the caller's transaction and runs the warehouse's data-quality checks
/// on the result. The checks are read before the migration runs, and an authorizer refuses writes
/// to the checks, the migration records, the run history and the upstream's tables (src_*): a
/// migration cannot make the checks pass by changing the checks or the data they compare with. Nor
/// may it end or escape the transaction (BEGIN, COMMIT, SAVEPOINT, ATTACH) or run a PRAGMA.
public static class Migrations
{
    public static readonly IReadOnlySet<string> ProtectedTables = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "src_orders", "src_daily_totals", "quality_checks", "migrations", "staged_migration", "pipeline_runs", "pipeline_logs",
        "sqlite_master", "sqlite_schema", "sqlite_sequence",
    };

    public static async Task<MigrationOutcome> ApplyAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, string where, CancellationToken cancellationToken)
    {
        var checks = await LoadChecksAsync(connection, transaction, cancellationToken);
        string? refusal = null;
        int changed;
        raw.sqlite3_set_authorizer(connection.Handle, (_, action, first, second, _, _) =>
        {
            refusal ??= Refusal(action, first, second);
            return refusal is null ? raw.SQLITE_OK : raw.SQLITE_DENY;
        }, null);
        try
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            changed = await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"The migration failed in {where}, which is unchanged: {refusal ?? e.Message}", causedByCaller: true);
        }
        finally
        {
            raw.sqlite3_set_authorizer(connection.Handle, (strdelegate_authorizer?)null, null);
        }

        var results = new List<CheckResult>();
        foreach (var (name, description, checkSql) in checks)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = checkSql;
            results.Add(new CheckResult(name, description, Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new MigrationOutcome(changed, results);
    }

    private static string? Refusal(int action, string? first, string? second) => action switch
    {
        raw.SQLITE_TRANSACTION or raw.SQLITE_SAVEPOINT =>
            "a migration runs inside the tool's own transaction: leave out BEGIN, COMMIT, ROLLBACK and SAVEPOINT.",
        raw.SQLITE_ATTACH or raw.SQLITE_DETACH => "a migration may not attach other databases.",
        raw.SQLITE_PRAGMA => $"a migration may not run PRAGMA {first}.",
        raw.SQLITE_INSERT or raw.SQLITE_UPDATE or raw.SQLITE_DELETE or raw.SQLITE_DROP_TABLE when first is not null && ProtectedTables.Contains(first) =>
            $"{first} is read-only for migrations (the upstream's data, the quality checks and the pipeline's records are not the warehouse's to change).",
        raw.SQLITE_ALTER_TABLE or raw.SQLITE_CREATE_TRIGGER when second is not null && ProtectedTables.Contains(second) =>
            $"{second} is read-only for migrations (the upstream's data, the quality checks and the pipeline's records are not the warehouse's to change).",
        _ => null,
    };

    private static async Task<List<(string Name, string Description, string Sql)>> LoadChecksAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT name, description, sql FROM quality_checks ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var checks = new List<(string, string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            checks.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return checks;
    }
}
