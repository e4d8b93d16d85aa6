using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Memory;

public sealed class When_a_plan_is_recorded
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    [Test]
    public async Task Should_read_the_plan_back_with_its_step_even_from_a_file_made_before_plans_were_recorded()
    {
        // The steps table as it was before the plan column existed.
        await using (var db = new SqliteConnection(_folder.SqliteConnectionString))
        {
            await db.OpenAsync();
            await using var create = db.CreateCommand();
            create.CommandText = """
                CREATE TABLE steps (
                  run_id TEXT NOT NULL, step INTEGER NOT NULL, planned INTEGER NOT NULL DEFAULT 0,
                  thought TEXT, tool_calls TEXT, final_answer TEXT, input_tokens INTEGER, output_tokens INTEGER, model TEXT,
                  verdict TEXT, verdict_reason TEXT,
                  PRIMARY KEY (run_id, step));
                """;
            await create.ExecuteNonQueryAsync();
        }

        var database = new SqliteMemoryDatabase(Options.Create(new MemoryOptions { SqliteConnectionString = _folder.SqliteConnectionString }));
        var store = new SqliteTranscriptStore(database);
        var runId = Guid.NewGuid();
        var arguments = JsonDocument.Parse("""{"expression":"6 * 7"}""").RootElement.Clone();
        var plan = new Plan(1, [new PlanStep(1, "multiply", "calculator", arguments, []), new PlanStep(2, "explain", null, null, [1])]);
        await store.StartRunAsync(new RunStart(runId, "t", "planner", "goal", null, DateTimeOffset.UtcNow), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "planner", 1, 5, "planned", [new ToolCall("p1s1", "calculator", arguments)], null, new TokenUsage(1, 1), "m", Plan: plan), CancellationToken.None);
        await store.RecordStepAsync(new StepPlanned(runId, "t", "planner", 2, 5, null, [], "42", new TokenUsage(1, 1), "m"), CancellationToken.None);

        var run = await store.GetAsync(runId, CancellationToken.None);

        var recorded = run.Steps[0].Plan!;
        Assert.That((recorded.Revision, recorded.Steps.Count), Is.EqualTo((1, 2)));
        Assert.That(recorded.Steps[0].Arguments!.Value.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That((recorded.Steps[1].Tool, recorded.Steps[1].DependsOn), Is.EqualTo(((string?)null, (IReadOnlyList<int>)[1])));
        Assert.That(run.Steps[1].Plan, Is.Null);
    }
}
