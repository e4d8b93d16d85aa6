using Agentry.Cli;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// A plan-and-execute agent with every service in this process, as `agentry run` does it: with the
/// offline model, and with the real Semantic Kernel OpenAI connector against the scripted fake.
public sealed class When_a_plan_and_execute_agent_runs
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private async Task<(int ExitCode, string Output)> Run(string goal, string agent, string agentsPath, params (string Key, string? Value)[] settings)
    {
        var configuration = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        var (exit, output, error) = await AgentryRun.RunAsync(new RunOptions(goal, agent, agentsPath, null, Verbose: false, configuration));
        return (exit, output + error);
    }

    [Test]
    public async Task Should_plan_run_the_independent_steps_in_one_wave_and_answer_with_the_offline_model()
    {
        var (exit, output) = await Run("What is 17 * 23 + 4, and what time is it in Tokyo?", "planner-demo", TestAgents.RepositoryAgentsFolder());

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("plan     (revision 0)"));
        Assert.That(output, Does.Contain("""1. calculator {"expression":"17 * 23 + 4"}"""));
        Assert.That(output, Does.Contain("""2. current_time {"timezone":"Asia/Tokyo"}"""));
        Assert.That(output, Does.Contain("thought  Plan revision 0 of 2 steps; running steps 1, 2."));
        Assert.That(output, Does.Contain("result   calculator -> 395"));
        Assert.That(output, Does.Contain("Step 2").And.Contain("thought  Every plan step is done; writing the answer."));
        Assert.That(output, Does.Contain("Answer: calculator: 395"));
        Assert.That(output, Does.Contain("Completed in 2 steps"));

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT step || '|' || json_array_length(tool_calls) || '|' || coalesce(json_array_length(plan, '$.steps'), '-') FROM steps ORDER BY step";
        var rows = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }

        Assert.That(rows, Is.EqualTo(new[] { "1|2|2", "2|0|-" }), "the plan is recorded on the step that made it, with both calls of its first wave");
    }

    [Test]
    public async Task Should_replan_after_a_failed_step_with_the_offline_model()
    {
        var (exit, output) = await Run("What is 1/0, and what time is it in Tokyo?", "planner-demo", TestAgents.RepositoryAgentsFolder());

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("result   calculator failed, Failed: Division by zero"));
        Assert.That(output, Does.Contain("plan     (revision 1) no steps: nothing to do before the answer"));
        Assert.That(output, Does.Contain("Answer: I could not complete the goal: calculator failed"));
    }

    [Test]
    public async Task Should_replan_with_the_failure_shown_to_a_model_behind_the_openai_connector()
    {
        _folder.Write("planner.yaml", """
            instructions: Plan, then act.
            strategy: plan-and-execute
            tools: [calculator, current_time]
            limits:
              max_replans: 1
            """);
        using var fake = OpenAiFake.Start();
        fake.ReplyWithAnswer("""
            {"steps": [
              {"description": "divide", "tool": "calculator", "arguments": {"expression": "84 / 0"}},
              {"description": "the time", "tool": "tools-current_time", "arguments": {}}
            ]}
            """)
            .ReplyWithAnswer("""
                ```json
                {"steps": [
                  {"description": "halve instead", "tool": "calculator", "arguments": {"expression": "84 / 2"}},
                  {"description": "say what the half means", "depends_on": [1]}
                ]}
                ```
                """)
            .ReplyWithToolCalls(new FakeToolCall("call_model_1", "tools-calculator", """{"expression":"42 + 0"}"""))
            .ReplyWithAnswer("84 / 0 is undefined; half of 84 is 42.");

        var (exit, output) = await Run("Divide 84 by zero, then tell me the time.", "planner", _folder.Path,
            ("Llm:Endpoint", fake.BaseUrl.ToString()), ("Llm:Model", "gpt-fake"), ("Llm:ApiKey", "sk-test"));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Answer: 84 / 0 is undefined; half of 84 is 42."));
        Assert.That(fake.RequestCount, Is.EqualTo(4), "plan, re-plan, the sub-goal's call, the answer");

        var plan = fake.Requests[0];
        Assert.That(plan.Json.GetProperty("tool_choice").GetString(), Is.EqualTo("none"), "the tools are described to the planning call, not callable");
        Assert.That(LastUserMessage(plan), Does.StartWith("Write a plan for the goal"));

        var replan = LastUserMessage(fake.Requests[1]);
        Assert.That(replan, Does.StartWith("Write a plan again: the current plan went wrong."));
        Assert.That(replan, Does.Contain("""the call calculator {"expression":"84 / 0"} failed (Failed: Division by zero"""));
        Assert.That(fake.Requests[1].Messages.EnumerateArray().Any(m => m.GetProperty("role").GetString() == "tool" && m.GetProperty("content").GetString()!.Contains("Division by zero", StringComparison.Ordinal)),
            "the failed call's result is in the transcript the model sees");

        var subGoal = fake.Requests[2];
        Assert.That(subGoal.ToolNames, Is.EqualTo(new[] { "tools-calculator", "tools-current_time" }));
        Assert.That(LastUserMessage(subGoal), Does.Contain("Step 2 is: say what the half means"));
        Assert.That(LastUserMessage(fake.Requests[3]), Does.StartWith("Every step of the plan is done"));

        Assert.That(output, Does.Contain("plan     (revision 1)"));
        Assert.That(output, Does.Contain("result   calculator -> 42"));
        Assert.That(output, Does.Contain("Completed in 4 steps"), "plan+wave 1, re-plan+wave 1, the sub-goal, the answer");
    }

    [Test]
    public async Task Should_show_an_invalid_plan_its_problems_and_fail_after_the_last_correction()
    {
        _folder.Write("planner.yaml", """
            instructions: Plan, then act.
            strategy: plan-and-execute
            tools: [calculator]
            """);
        using var fake = OpenAiFake.Start();
        fake.ReplyWithAnswer("I will use the calculator.")
            .ReplyWithAnswer("""{"steps": [{"description": "beam up", "tool": "teleport", "arguments": {}}]}""")
            .ReplyWithAnswer("""{"steps": [{"description": "add", "tool": "calculator", "arguments": {"expression": "1+1"}, "depends_on": [1]}]}""");

        var (exit, output) = await Run("What is 1 + 1?", "planner", _folder.Path,
            ("Llm:Endpoint", fake.BaseUrl.ToString()), ("Llm:Model", "gpt-fake"), ("Llm:ApiKey", "sk-test"));

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output);
        Assert.That(fake.RequestCount, Is.EqualTo(3), "one plan request and two corrections, no more");
        Assert.That(LastUserMessage(fake.Requests[1]), Does.StartWith("That plan is not valid: the reply is not valid JSON"));
        Assert.That(LastUserMessage(fake.Requests[2]), Is.EqualTo("That plan is not valid: step 1: 'teleport' is not one of this agent's tools (calculator). Reply with the corrected plan as one JSON object only."));
        Assert.That(output, Does.Contain("Failed: The model could not plan step 1: The model's plan was still invalid after 2 correction(s): step 1: depends_on 1 is not an earlier step; a step can only wait for steps listed before it."));
    }

    private static string LastUserMessage(FakeRequest request) =>
        request.Messages.EnumerateArray().Last(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString()!;
}
