using Agentry.Evaluation.Results;
using Agentry.Evaluation.Stores.Sqlite;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.Evaluation.Stores;

/// A SQLite file written before the list kept its totals (cost, tokens, latency) gets them when it
/// is opened, computed from each run's record, so runs stored then list as new ones do.
public sealed class When_an_older_eval_file_is_opened
{
    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    [Test]
    public async Task Should_fill_in_the_totals_of_the_runs_it_already_holds()
    {
        using var folder = new TempFolder();
        var run = When_eval_runs_are_stored.Run("assistant", new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero), true, false);
        using (var connection = new SqliteConnection(folder.SqliteConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The table as the first release of the store created it, and one run in it.
            command.CommandText =
                """
                CREATE TABLE eval_runs (id TEXT PRIMARY KEY, dataset TEXT NOT NULL, dataset_version TEXT NOT NULL, agents TEXT NOT NULL, model TEXT NOT NULL,
                    judge_model TEXT NOT NULL, judge_prompt_version TEXT NOT NULL, started_at TEXT NOT NULL, cases INTEGER NOT NULL, cases_passed INTEGER NOT NULL, record TEXT NOT NULL);
                INSERT INTO eval_runs VALUES ($id, 'assistant', '1@0a1a6bdc349c', 'assistant@44ab47d916a7', 'agentry-offline', 'agentry-offline', '2f1909eb24fc',
                    '2026-12-01T08:00:00.0000000Z', 2, 1, $record);
                """;
            command.Parameters.AddWithValue("$id", run.Id.ToString());
            command.Parameters.AddWithValue("$record", System.Text.Json.JsonSerializer.Serialize(run, Web));
            command.ExecuteNonQuery();
        }

        var store = new SqliteEvalResultStore(folder.SqliteConnectionString);

        Assert.That(await store.ListAsync(null, 10, CancellationToken.None), Is.EqualTo(new[] { EvalRunSummary.Of(run) }));
        Assert.DoesNotThrow(() => _ = new SqliteEvalResultStore(folder.SqliteConnectionString), "opened again: the columns are there already");
    }
}
