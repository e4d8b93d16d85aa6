using System.Globalization;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// Summaries of runs' older steps in the embedded database, keyed by run and last step covered.
public sealed class SqliteSummaryStore(SqliteMemoryDatabase database) : ISummaryStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    public Task SaveSummaryAsync(TranscriptSummary summary, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO summaries (run_id, through_step, tenant_id, text, model, created_at)
            VALUES ($run, $through, $tenant, $text, $model, $at)
            ON CONFLICT (run_id, through_step) DO NOTHING
            """,
            cancellationToken,
            ("$run", summary.RunId.ToString()), ("$through", summary.ThroughStep), ("$tenant", Required(summary.TenantId)),
            ("$text", summary.Text), ("$model", summary.Model), ("$at", Timestamp(summary.At)));

    public async Task<TranscriptSummary?> GetSummaryAsync(string tenantId, Guid runId, int throughStep, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection,
            """
            SELECT through_step, text, model, created_at FROM summaries
            WHERE run_id = $run AND tenant_id = $tenant AND through_step <= $through
            ORDER BY through_step DESC LIMIT 1
            """,
            ("$run", runId.ToString()), ("$tenant", Required(tenantId)), ("$through", throughStep));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new TranscriptSummary(runId, tenantId, reader.GetInt32(0), reader.GetString(1), reader.GetString(2),
                DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal))
            : null;
    }
}
