using System.Globalization;
using System.Text.Json;
using Agentry.Evaluation.Results;
using Microsoft.Data.Sqlite;

namespace Agentry.Evaluation.Stores.Sqlite;

/// Eval runs in the embedded SQLite file (the same file as Memory's transcripts, in tables of its
/// own): the columns that lists and baselines select on, and the whole record as JSON.
public sealed class SqliteEvalResultStore : IEvalResultStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // The totals a list shows, added after the first files were written: a file without them gets
    // them, filled from each run's record, when it is opened.
    private static readonly (string Name, string Type)[] TotalColumns =
        [("cost", "TEXT"), ("judge_cost", "TEXT"), ("tokens", "INTEGER"), ("latency_p50_ticks", "INTEGER"), ("latency_p95_ticks", "INTEGER")];

    private readonly string _connectionString;

    public SqliteEvalResultStore(string connectionString)
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
        using (var command = connection.CreateCommand())
        {
            command.CommandText =
                """
                CREATE TABLE IF NOT EXISTS eval_runs (
                    id TEXT PRIMARY KEY,
                    dataset TEXT NOT NULL,
                    dataset_version TEXT NOT NULL,
                    agents TEXT NOT NULL,
                    model TEXT NOT NULL,
                    judge_model TEXT NOT NULL,
                    judge_prompt_version TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    cases INTEGER NOT NULL,
                    cases_passed INTEGER NOT NULL,
                    record TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS eval_runs_by_dataset ON eval_runs (dataset, started_at);
                """;
            command.ExecuteNonQuery();
        }

        AddTotals(connection);
    }

    public string DataSource => new SqliteConnectionStringBuilder(_connectionString).DataSource;

    public string Location => DataSource;

    public async Task SaveAsync(EvalRunRecord run, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            """
            INSERT OR REPLACE INTO eval_runs (id, dataset, dataset_version, agents, model, judge_model, judge_prompt_version, started_at, cases, cases_passed, record,
                                              cost, judge_cost, tokens, latency_p50_ticks, latency_p95_ticks)
            VALUES ($id, $dataset, $version, $agents, $model, $judge, $prompt, $started, $cases, $passed, $record, $cost, $judge_cost, $tokens, $p50, $p95)
            """;
        command.Parameters.AddWithValue("$id", run.Id.ToString());
        command.Parameters.AddWithValue("$dataset", run.Dataset);
        command.Parameters.AddWithValue("$version", run.DatasetVersion);
        command.Parameters.AddWithValue("$agents", run.Agents);
        command.Parameters.AddWithValue("$model", run.Model);
        command.Parameters.AddWithValue("$judge", run.JudgeModel);
        command.Parameters.AddWithValue("$prompt", run.JudgePromptVersion);
        // Sortable as text: UTC, fixed width.
        command.Parameters.AddWithValue("$started", run.StartedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$cases", run.Cases.Count);
        command.Parameters.AddWithValue("$passed", run.CasesPassed);
        command.Parameters.AddWithValue("$record", JsonSerializer.Serialize(run, Json));
        AddTotalParameters(command, EvalRunSummary.Of(run));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<EvalRunRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT record FROM eval_runs WHERE id = $id";
        command.Parameters.AddWithValue("$id", id.ToString());
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize<EvalRunRecord>(json, Json) : null;
    }

    public async Task<IReadOnlyList<EvalRunSummary>> ListAsync(string? dataset, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"""
            SELECT id, dataset, dataset_version, agents, model, started_at, cases, cases_passed, cost, judge_cost, tokens, latency_p50_ticks, latency_p95_ticks FROM eval_runs
            {(dataset is null ? "" : "WHERE dataset = $dataset")}
            ORDER BY started_at DESC LIMIT $limit
            """;
        if (dataset is not null)
        {
            command.Parameters.AddWithValue("$dataset", dataset);
        }

        command.Parameters.AddWithValue("$limit", limit);
        var runs = new List<EvalRunSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new EvalRunSummary(
                Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), reader.GetInt32(6), reader.GetInt32(7),
                decimal.Parse(reader.GetString(8), CultureInfo.InvariantCulture), decimal.Parse(reader.GetString(9), CultureInfo.InvariantCulture),
                reader.GetInt64(10), TimeSpan.FromTicks(reader.GetInt64(11)), TimeSpan.FromTicks(reader.GetInt64(12))));
        }

        return runs;
    }

    private static void AddTotals(SqliteConnection connection)
    {
        // Immediate: two processes opening an older file at once add the columns once.
        using var transaction = connection.BeginTransaction(deferred: false);
        SqliteCommand Command(string text)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = text;
            return command;
        }

        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var columns = Command("SELECT name FROM pragma_table_info('eval_runs')"))
        using (var reader = columns.ExecuteReader())
        {
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }

        if (TotalColumns.All(c => present.Contains(c.Name)))
        {
            return;
        }

        foreach (var (name, type) in TotalColumns.Where(c => !present.Contains(c.Name)))
        {
            using var add = Command($"ALTER TABLE eval_runs ADD COLUMN {name} {type}");
            add.ExecuteNonQuery();
        }

        var records = new List<string>();
        using (var select = Command("SELECT record FROM eval_runs WHERE tokens IS NULL"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                records.Add(reader.GetString(0));
            }
        }

        foreach (var json in records)
        {
            var summary = EvalRunSummary.Of(JsonSerializer.Deserialize<EvalRunRecord>(json, Json)!);
            using var update = Command("UPDATE eval_runs SET cost = $cost, judge_cost = $judge_cost, tokens = $tokens, latency_p50_ticks = $p50, latency_p95_ticks = $p95 WHERE id = $id");
            update.Parameters.AddWithValue("$id", summary.Id.ToString());
            AddTotalParameters(update, summary);
            update.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    // Money as invariant text: exact, as decimal is, where a REAL would round.
    private static void AddTotalParameters(SqliteCommand command, EvalRunSummary totals)
    {
        command.Parameters.AddWithValue("$cost", totals.Cost.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$judge_cost", totals.JudgeCost.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$tokens", totals.Tokens);
        command.Parameters.AddWithValue("$p50", totals.LatencyP50.Ticks);
        command.Parameters.AddWithValue("$p95", totals.LatencyP95.Ticks);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
