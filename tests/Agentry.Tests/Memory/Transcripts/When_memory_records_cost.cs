using Agentry.Contracts;
using Agentry.Memory;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Memory;

/// The transcript keeps each step's cost and the run's total as exact decimals, also in a file
/// written before cost was recorded.
public sealed class When_memory_records_cost
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private SqliteMemoryDatabase Database() =>
        new(Options.Create(new MemoryOptions { SqliteConnectionString = _folder.SqliteConnectionString }));

    [Test]
    public async Task Should_give_back_the_step_costs_and_the_total_exactly()
    {
        var database = Database();
        var store = new SqliteTranscriptStore(database);
        var runId = Guid.NewGuid();
        var at = DateTimeOffset.UnixEpoch;
        await store.StartRunAsync(new RunStart(runId, "t", "assistant", "goal", null, at), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "assistant", 1, 8, null, [], "42", new TokenUsage(3, 1), "m", Cost: 0.0000123456789m), CancellationToken.None);
        await store.EndRunAsync(new RunEnd(runId, "t", "assistant", RunStatus.Completed, "42", null, 1, new TokenUsage(3, 1), at, TotalCost: 0.1000000000001m), CancellationToken.None);

        var run = await store.GetAsync(runId, CancellationToken.None);

        Assert.That(run.TotalCost, Is.EqualTo(0.1000000000001m));
        Assert.That(run.Steps.Single().Cost, Is.EqualTo(0.0000123456789m));
    }

    [Test]
    public async Task Should_add_the_cost_columns_to_a_file_from_before_cost_was_recorded()
    {
        await using (var old = new SqliteConnection(_folder.SqliteConnectionString))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE runs (
                  run_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, agent TEXT, goal TEXT, input TEXT,
                  status TEXT NOT NULL, answer TEXT, reason TEXT, steps INTEGER,
                  input_tokens INTEGER, output_tokens INTEGER, started_at TEXT, ended_at TEXT);
                CREATE TABLE steps (
                  run_id TEXT NOT NULL, step INTEGER NOT NULL, planned INTEGER NOT NULL DEFAULT 0,
                  thought TEXT, tool_calls TEXT, final_answer TEXT, input_tokens INTEGER, output_tokens INTEGER, model TEXT,
                  verdict TEXT, verdict_reason TEXT,
                  PRIMARY KEY (run_id, step));
                INSERT INTO runs (run_id, tenant_id, status, input_tokens, output_tokens, ended_at) VALUES ('00000000-0000-0000-0000-000000000001', 't', 'Completed', 1, 2, '2026-01-01');
                """;
            await create.ExecuteNonQueryAsync();
        }

        var database = Database();
        var store = new SqliteTranscriptStore(database);
        var before = await store.GetAsync(Guid.Parse("00000000-0000-0000-0000-000000000001"), CancellationToken.None);
        var runId = Guid.NewGuid();
        await store.EndRunAsync(new RunEnd(runId, "t", "assistant", RunStatus.Failed, null, "why", 1, TokenUsage.None, DateTimeOffset.UnixEpoch, TotalCost: 0.5m), CancellationToken.None);

        Assert.That(before.TotalCost, Is.Null, "a run recorded before cost was kept has no cost");
        Assert.That((await store.GetAsync(runId, CancellationToken.None)).TotalCost, Is.EqualTo(0.5m));
    }
}
