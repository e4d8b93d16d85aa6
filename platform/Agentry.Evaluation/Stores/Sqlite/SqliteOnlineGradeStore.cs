using System.Globalization;
using System.Text.Json;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Online;
using Microsoft.Data.Sqlite;

namespace Agentry.Evaluation.Stores.Sqlite;

/// Online grades in the embedded SQLite file, beside the eval runs: one row per graded run. A run's
/// place among its agent's scored runs is given in the insert itself, which SQLite's one writer at a
/// time makes atomic; the unique index would refuse a second run in the same place.
public sealed class SqliteOnlineGradeStore : IOnlineGradeStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _connectionString;

    public SqliteOnlineGradeStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        builder.DefaultTimeout = 30;
        _connectionString = builder.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            """
            CREATE TABLE IF NOT EXISTS online_grades (
                run_id TEXT PRIMARY KEY,
                agent TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                graded_at TEXT NOT NULL,
                score REAL NULL,
                sequence INTEGER NOT NULL,
                grades TEXT NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS online_grades_in_order ON online_grades (agent, sequence) WHERE sequence > 0;
            CREATE INDEX IF NOT EXISTS online_grades_latest ON online_grades (agent, graded_at);
            """;
        command.ExecuteNonQuery();
    }

    public async Task<(OnlineRunGrades Stored, bool IsNew)> RecordAsync(OnlineRunGrades grades, CancellationToken cancellationToken)
    {
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText =
                """
                INSERT OR IGNORE INTO online_grades (run_id, agent, tenant_id, graded_at, score, sequence, grades)
                SELECT $run, $agent, $tenant, $at, $score,
                       CASE WHEN $score IS NULL THEN 0 ELSE COALESCE(MAX(sequence), 0) + 1 END, $grades
                FROM online_grades WHERE agent = $agent
                """;
            command.Parameters.AddWithValue("$run", grades.RunId.ToString());
            command.Parameters.AddWithValue("$agent", grades.Agent);
            command.Parameters.AddWithValue("$tenant", grades.TenantId);
            // Sortable as text: UTC, fixed width.
            command.Parameters.AddWithValue("$at", grades.GradedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$score", grades.Score is { } score ? score : DBNull.Value);
            command.Parameters.AddWithValue("$grades", JsonSerializer.Serialize(grades.Grades, Json));
            var inserted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
            var stored = await GetAsync(grades.RunId, cancellationToken)
                ?? throw new InvalidOperationException($"The online grades of run {grades.RunId} were not stored.");
            return (stored, inserted);
        }
    }

    public async Task<OnlineRunGrades?> GetAsync(Guid runId, CancellationToken cancellationToken)
    {
        var found = await QueryAsync("WHERE run_id = $run", command => command.Parameters.AddWithValue("$run", runId.ToString()), cancellationToken);
        return found.SingleOrDefault();
    }

    public Task<IReadOnlyList<OnlineRunGrades>> ScoredAsync(string agent, long first, long last, CancellationToken cancellationToken) =>
        QueryAsync("WHERE agent = $agent AND sequence > 0 AND sequence BETWEEN $first AND $last ORDER BY sequence", command =>
        {
            command.Parameters.AddWithValue("$agent", agent);
            command.Parameters.AddWithValue("$first", first);
            command.Parameters.AddWithValue("$last", last);
        }, cancellationToken);

    public Task<IReadOnlyList<OnlineRunGrades>> LatestAsync(string agent, int count, CancellationToken cancellationToken) =>
        QueryAsync("WHERE agent = $agent ORDER BY graded_at DESC, rowid DESC LIMIT $count", command =>
        {
            command.Parameters.AddWithValue("$agent", agent);
            command.Parameters.AddWithValue("$count", count);
        }, cancellationToken);

    private async Task<IReadOnlyList<OnlineRunGrades>> QueryAsync(string where, Action<SqliteCommand> parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT run_id, agent, tenant_id, graded_at, score, sequence, grades FROM online_grades {where}";
        parameters(command);
        var runs = new List<OnlineRunGrades>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new OnlineRunGrades(
                Guid.Parse(reader.GetString(0)),
                reader.GetString(1),
                reader.GetString(2),
                DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                reader.IsDBNull(4) ? null : reader.GetDouble(4),
                JsonSerializer.Deserialize<List<Grade>>(reader.GetString(6), Json) ?? [],
                reader.GetInt64(5)));
        }

        return runs;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
