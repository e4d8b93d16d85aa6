using Agentry.Contracts;
using Agentry.Memory;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Memory;

/// A step answered from the LLM response cache stays marked as such in the transcript, and a
/// transcript file written before the mark existed gains the column when opened.
public sealed class When_a_cached_step_is_recorded
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private SqliteMemoryDatabase Database() =>
        new(Options.Create(new MemoryOptions { SqliteConnectionString = _folder.SqliteConnectionString }));

    [Test]
    public async Task Should_show_the_cache_hit_and_the_model_on_the_run_view()
    {
        var database = Database();
        var store = new SqliteTranscriptStore(database);
        var runId = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(runId, "t", "assistant", "What is 6 * 7?", null, DateTimeOffset.UtcNow), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "assistant", 1, 8, null, [], "42", TokenUsage.None, "backup/small", CacheHit: true), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "assistant", 2, 8, null, [], "42", new TokenUsage(9, 1), "big"), CancellationToken.None);

        var view = await store.GetAsync(runId, CancellationToken.None);

        Assert.That(view.Steps.Select(s => (s.Model, s.CacheHit)), Is.EqualTo(new[] { ("backup/small", true), ("big", false) }));
    }

    [Test]
    public async Task Should_add_the_cache_hit_column_to_a_file_written_before_it_existed()
    {
        await using (var old = new SqliteConnection(_folder.SqliteConnectionString))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE steps (
                  run_id TEXT NOT NULL, step INTEGER NOT NULL, planned INTEGER NOT NULL DEFAULT 0,
                  thought TEXT, tool_calls TEXT, final_answer TEXT, input_tokens INTEGER, output_tokens INTEGER, model TEXT,
                  verdict TEXT, verdict_reason TEXT,
                  PRIMARY KEY (run_id, step));
                """;
            await create.ExecuteNonQueryAsync();
        }

        var database = Database();
        var store = new SqliteTranscriptStore(database);
        var runId = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(runId, "t", "assistant", "goal", null, DateTimeOffset.UtcNow), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "assistant", 1, 8, null, [], "42", TokenUsage.None, "m", CacheHit: true), CancellationToken.None);

        Assert.That((await store.GetAsync(runId, CancellationToken.None)).Steps.Single().CacheHit, Is.True);
    }
}
