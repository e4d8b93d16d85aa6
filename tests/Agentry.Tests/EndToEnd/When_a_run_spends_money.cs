using Agentry.Cli;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// Every service in one process, as `agentry run` hosts them, asking the real OpenAI connector
/// against the scripted fake, whose replies carry usage: cost is priced from Llm:Prices, kept per
/// step and per run, shown on the CLI's lines and in the transcript, and stops the run at max_cost.
public sealed class When_a_run_spends_money
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        _folder.Write("budgeted.yaml", """
            description: An agent with a budget
            instructions: Use the calculator.
            tools: [calculator]
            limits:
              max_steps: 5
              max_tokens: 1000000
              max_cost: 0.50
            evaluation:
              judge: true
              min_confidence: 0.5
            """);
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    private async Task<(int ExitCode, string Output)> Run(string goal)
    {
        var (exit, output, error) = await AgentryRun.RunAsync(
            new RunOptions(goal, "budgeted", _folder.Path, null, Verbose: false,
                new Dictionary<string, string?>
                {
                    ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
                    ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
                    ["Llm:Model"] = "gpt-fake",
                    ["Llm:Prices:gpt-fake:InputPerMillion"] = "2",
                    ["Llm:Prices:gpt-fake:OutputPerMillion"] = "10",
                }));
        return (exit, output + error);
    }

    // 100,000 tokens in at $2 and 10,000 out at $10 per million: $0.30 a call.
    private static FakeReply Costly(FakeReply reply) => reply with { PromptTokens = 100_000, CompletionTokens = 10_000 };

    [Test]
    public async Task Should_stop_at_the_cost_limit_with_the_amounts_in_the_reason()
    {
        _fake.Enqueue(Costly(FakeReply.ToolCalls(new FakeToolCall("call_1", "calculator", """{"expression": "2 + 3"}"""))))
            .Enqueue(Costly(FakeReply.ToolCalls(new FakeToolCall("call_2", "calculator", """{"expression": "5 * 5"}"""))));

        var (exit, output) = await Run("What is (2 + 3) * 5?");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output);
        Assert.That(output, Does.Contain("Failed: Cost limit of $0.50 reached ($0.60 spent by step 2)."));
        Assert.That(output, Does.Contain("Stopped after 2 steps, 220000 tokens (200000 in, 20000 out), $0.60, "));
        Assert.That(output, Does.Contain("tokens   100000 in, 10000 out (gpt-fake), $0.30"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT status || '|' || cost FROM runs";
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo("Failed|0.6"));
    }

    [Test]
    public async Task Should_count_the_re_ask_and_the_judge_in_the_runs_cost()
    {
        _fake.Enqueue(FakeReply.ToolCalls(new FakeToolCall("call_1", "calculator", """{"expression": 6}""")) with { PromptTokens = 1_000, CompletionTokens = 100 })
            .Enqueue(FakeReply.ToolCalls(new FakeToolCall("call_2", "calculator", """{"expression": "6 * 7"}""")) with { PromptTokens = 1_000, CompletionTokens = 100 })
            .Enqueue(FakeReply.Answer("42", promptTokens: 1_000, completionTokens: 100))
            .Enqueue(FakeReply.Answer("""{"verdict": "complete", "confidence": 0.9, "reason": "6 * 7 is 42."}""", promptTokens: 500, completionTokens: 50));

        var (exit, output) = await Run("What is 6 * 7?");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("result   calculator -> 42"));
        Assert.That(output, Does.Contain("verdict  Complete: The model judge accepted the answer (confidence 0.9, minimum 0.5): 6 * 7 is 42."));
        // Planning: 3 calls of 1,000 in and 100 out ($0.003 each); the judge: 500 in, 50 out ($0.0015).
        Assert.That(output, Does.Contain("Completed in 2 steps, 3850 tokens (3500 in, 350 out), $0.0105, "));
        Assert.That(_fake.RequestCount, Is.EqualTo(4));
    }
}
