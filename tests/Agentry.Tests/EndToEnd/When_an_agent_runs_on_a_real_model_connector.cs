using Agentry.Llm;
using Agentry.Cli;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// The whole lifecycle in one process, with the agent's model a declared provider: the real
/// Semantic Kernel OpenAI connector talking HTTP to the OpenAI-compatible fake.
public sealed class When_an_agent_runs_on_a_real_model_connector
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        _folder.Write("mathematician.yaml", """
            description: Does arithmetic with the calculator
            instructions: Use the calculator for arithmetic, then answer with the number.
            model:
              provider: primary
              name: gpt-fake
              fallbacks:
                - { provider: backup, name: gpt-fake-mini }
            tools: [calculator]
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
            new RunOptions(goal, "mathematician", _folder.Path, null, Verbose: false,
                new Dictionary<string, string?>
                {
                    ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
                    ["Llm:DefaultProvider"] = "primary",
                    ["Llm:Providers:primary:Kind"] = "openai-compatible",
                    ["Llm:Providers:primary:Endpoint"] = _fake.BaseUrl.ToString(),
                    ["Llm:Providers:primary:MaxRetries"] = "0",
                    ["Llm:Providers:backup:Kind"] = "openai-compatible",
                    ["Llm:Providers:backup:Endpoint"] = _fake.BaseUrl.ToString(),
                }));
        return (exit, output + error);
    }

    [Test]
    public async Task Should_complete_with_the_models_tool_call_and_answer_and_record_the_model_that_answered()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"17 * 23 + 4"}"""))
            .ReplyWithServerError(503)
            .ReplyWithAnswer("The answer is 395.", promptTokens: 80, completionTokens: 6);

        var (exit, output) = await Run("What is 17 * 23 + 4?");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Model: primary (model named by each agent)"));
        Assert.That(output, Does.Contain("""call     calculator {"expression":"17 * 23 + 4"}"""));
        Assert.That(output, Does.Contain("result   calculator -> 395"));
        Assert.That(output, Does.Contain("tokens   80 in, 6 out (backup/gpt-fake-mini)"), "step 2's primary failed; the fallback answered");
        Assert.That(output, Does.Contain("Answer: The answer is 395."));
        Assert.That(_fake.Requests.Select(r => r.Model), Is.EqualTo(new[] { "gpt-fake", "gpt-fake", "gpt-fake-mini" }));
        var secondCall = _fake.Requests[1].Messages;
        Assert.That(secondCall.EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool"
            && m.GetProperty("content").GetString() == ToolOutcomeText.Wrap("395")), "the tool result went back to the model");

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT group_concat(model, '|') FROM (SELECT model FROM steps ORDER BY step)";
        Assert.That(await command.ExecuteScalarAsync(), Is.EqualTo("gpt-fake|backup/gpt-fake-mini"));
    }
}
