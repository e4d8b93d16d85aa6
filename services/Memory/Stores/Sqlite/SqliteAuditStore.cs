using System.Globalization;
using System.Text;
using Agentry.Contracts;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// The audit trail in the embedded database: one row per entry, keyed by its id. Times are kept as
/// fixed-width UTC text (Timestamp), so ordering the text orders the times; both indexes end with
/// (at, id), the trail's order, so a page is read off an index without sorting the tenant's rows.
public sealed class SqliteAuditStore(SqliteMemoryDatabase database) : IAuditStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    public Task AppendAsync(AuditRecorded entry, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT OR IGNORE INTO audit (id, tenant_id, at, actor, action, source, run_id, target, detail)
            VALUES ($id, $tenant, $at, $actor, $action, $source, $run, $target, $detail)
            """,
            cancellationToken,
            ("$id", entry.Id.ToString()), ("$tenant", Required(entry.TenantId)), ("$at", Timestamp(entry.At)),
            ("$actor", entry.Actor), ("$action", entry.Action), ("$source", entry.Source),
            ("$run", entry.RunId?.ToString()), ("$target", entry.Target), ("$detail", entry.Detail));

    public async Task<IReadOnlyList<AuditRecorded>> QueryAsync(GetAuditTrail query, CancellationToken cancellationToken)
    {
        // Only the conditions asked for, so that SQLite picks the index for them (audit_by_tenant or audit_by_run).
        var sql = new StringBuilder("SELECT id, tenant_id, at, actor, action, source, run_id, target, detail FROM audit WHERE tenant_id = $tenant");
        var parameters = new List<(string, object?)> { ("$tenant", Required(query.TenantId)), ("$limit", IAuditStore.LimitOf(query)) };
        if (query.RunId is { } run)
        {
            sql.Append(" AND run_id = $run");
            parameters.Add(("$run", run.ToString()));
        }

        if (query.Before is { } before)
        {
            sql.Append(" AND at < $before");
            parameters.Add(("$before", Timestamp(before)));
        }

        sql.Append(" ORDER BY at DESC, id DESC LIMIT $limit");
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql.ToString(), [.. parameters]);
        var entries = new List<AuditRecorded>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditRecorded(
                Guid.Parse(reader.GetString(0)),
                reader.GetString(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                NullableString(reader, 6) is { } runId ? Guid.Parse(runId) : null,
                NullableString(reader, 7),
                NullableString(reader, 8)));
        }

        return entries;
    }
}
