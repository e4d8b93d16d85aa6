using Agentry.Contracts;
using Microsoft.Data.Sqlite;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// The runs' artifacts in the embedded database: a row per run in artifact_runs (its tenant and how
/// many files went unlisted), a row per file in artifacts with its content as a BLOB (null when left
/// out). The run's row is written first in the same transaction, so a redelivery finds it and
/// changes nothing.
public sealed class SqliteArtifactStore(SqliteMemoryDatabase database) : IArtifactStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    public Task KeepAsync(RunArtifactsKept artifacts, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var run = Command(connection,
                "INSERT OR IGNORE INTO artifact_runs (run_id, tenant_id, unlisted) VALUES ($run, $tenant, $unlisted)",
                ("$run", artifacts.RunId.ToString()), ("$tenant", Required(artifacts.TenantId)), ("$unlisted", artifacts.Unlisted));
            run.Transaction = transaction;
            if (await run.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return;
            }

            foreach (var file in artifacts.Files)
            {
                await using var row = Command(connection,
                    """
                    INSERT OR IGNORE INTO artifacts (run_id, name, tenant_id, size, sha256, content, left_out)
                    VALUES ($run, $name, $tenant, $size, $sha, $content, $left)
                    """,
                    ("$run", artifacts.RunId.ToString()), ("$name", Required(file.Name)), ("$tenant", artifacts.TenantId), ("$size", file.Size),
                    ("$sha", file.Sha256), ("$content", file.Content), ("$left", file.LeftOut));
                row.Transaction = transaction;
                await row.ExecuteNonQueryAsync(cancellationToken);
            }
        }, cancellationToken);

    public async Task<ArtifactList> ListAsync(string tenantId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var run = Command(connection, "SELECT unlisted FROM artifact_runs WHERE run_id = $run AND tenant_id = $tenant",
            ("$run", runId.ToString()), ("$tenant", Required(tenantId)));
        if (await run.ExecuteScalarAsync(cancellationToken) is not long unlisted)
        {
            return new ArtifactList(runId, []);
        }

        await using var command = Command(connection,
            "SELECT name, size, sha256, left_out FROM artifacts WHERE run_id = $run AND tenant_id = $tenant ORDER BY name",
            ("$run", runId.ToString()), ("$tenant", tenantId));
        var artifacts = new List<ArtifactInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            artifacts.Add(Info(reader));
        }

        return new ArtifactList(runId, artifacts, (int)unlisted);
    }

    public async Task<(ArtifactInfo Info, byte[]? Content)?> GetAsync(string tenantId, Guid runId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT name, size, sha256, left_out, content FROM artifacts WHERE run_id = $run AND name = $name AND tenant_id = $tenant",
            ("$run", runId.ToString()), ("$name", name), ("$tenant", Required(tenantId)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        // An empty BLOB reads back as an empty array; only a left-out file has no content at all.
        return (Info(reader), reader.IsDBNull(4) ? null : (byte[])reader.GetValue(4));
    }

    private static ArtifactInfo Info(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), NullableString(reader, 2), NullableString(reader, 3));
}
