using Agentry.Cli;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// Every service in one process, as `agentry run` hosts them, asking the real OpenAI connector
/// against the scripted fake, whose replies carry usage: cost is priced from Llm:Prices, kept per
/// step and per run, shown on the CLI's lines and in the transcript, and stops the run at max_cost.
/// A summary Memory asks for to fit a small context budget is spent for the run and counted with it.
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
        // Two steps of long thoughts do not fit 500 tokens: at step 3 the first is summarized.
        _folder.Write("compacting.yaml", """
            description: An agent with a small context
            instructions: Use the calculator.
            tools: [calculator]
            memory:
              context_tokens: 500
              recent_steps: 1
            limits:
              max_steps: 5
              max_tokens: 1000000
            """);
        _folder.Write("compacting-budgeted.yaml", """
            description: An agent with a small context and a budget the summary breaks
            instructions: Use the calculator.
            tools: [calculator]
            memory:
              context_tokens: 500
              recent_steps: 1
            limits:
              max_steps: 5
              max_tokens: 1000000
              max_cost: 0.012
            """);
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    private async Task<(int ExitCode, string Output)> Run(string goal, string agent = "budgeted")
    {
        var (exit, output, error) = await AgentryRun.RunAsync(
            new RunOptions(goal, agent, _folder.Path, null, Verbose: false,
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

    // About 250 tokens of thought, different at each step; 1,000 tokens in and 100 out: $0.003 a call.
    private static FakeReply LongStep(int step, string expression) =>
        FakeReply.ToolCalls(new FakeToolCall($"call_{step}", "calculator", $$"""{"expression": "{{expression}}"}""")) with
        {
            Content = $"Step {step}: " + string.Join(" ", Enumerable.Range(0, 50).Select(i => $"s{step}w{i}")),
            PromptTokens = 1_000,
            CompletionTokens = 100,
        };

    // The summary of step 1: 2,000 tokens in and 50 out, $0.0045.
    private static FakeReply Summary => FakeReply.Answer("Step 1 added 1 and 1 with the calculator: 2.", promptTokens: 2_000, completionTokens: 50);

    /// Two long steps fill the context, so that the third is planned on a summary of the first.
    private void EnqueueTwoLongStepsTheirSummaryAndTheAnswer() =>
        _fake.Enqueue(LongStep(1, "1 + 1"))
            .Enqueue(LongStep(2, "2 + 2"))
            .Enqueue(Summary)
            .Enqueue(FakeReply.Answer("4", promptTokens: 1_000, completionTokens: 100));

    [Test]
    public async Task Should_count_the_summary_of_a_compacted_context_in_the_runs_tokens_and_cost()
    {
        EnqueueTwoLongStepsTheirSummaryAndTheAnswer();

        var (exit, output) = await Run("What is 2 + 2?", "compacting");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(_fake.Requests[2].Messages[0].GetProperty("content").GetString(), Is.EqualTo(Agentry.Memory.TranscriptSummarizer.Instructions), "the third call was not the summary");
        Assert.That(output, Does.Contain("summary  2000 in, 50 out, $0.0045: earlier steps summarized to fit the context"));
        // Planning: 3 calls of 1,000 in and 100 out ($0.003 each); the summary: 2,000 in, 50 out ($0.0045).
        Assert.That(output, Does.Contain("Completed in 3 steps, 5350 tokens (5000 in, 350 out), $0.0135, "));

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT r.input_tokens || '|' || r.output_tokens || '|' || r.cost || '|' || s.context_input_tokens || '|' || s.context_output_tokens || '|' || s.context_cost FROM runs r JOIN steps s ON s.run_id = r.run_id AND s.step = 3";
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo("5000|350|0.0135|2000|50|0.0045"), "the run's record or its step's summary cost");
    }

    [Test]
    public async Task Should_hold_the_summary_to_the_cost_limit()
    {
        EnqueueTwoLongStepsTheirSummaryAndTheAnswer();

        var (exit, output) = await Run("What is 2 + 2?", "compacting-budgeted");

        // $0.009 of planning is within $0.012; with the summary's $0.0045 it is not.
        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output);
        Assert.That(output, Does.Contain("Failed: Cost limit of $0.012 reached ($0.0135 spent by step 3)."));
    }
}
