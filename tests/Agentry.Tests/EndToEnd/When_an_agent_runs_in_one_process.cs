using Agentry.Cli;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// The whole lifecycle with every service in this process, as `agentry run` does it,
/// then the transcript read back from the SQLite file.
public sealed class When_an_agent_runs_in_one_process
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private Task<(int ExitCode, string Output, string Error)> Run(string goal, string agent = "assistant", string? agentsPath = null, string? input = null) =>
        AgentryRun.RunAsync(new RunOptions(goal, agent, agentsPath ?? TestAgents.RepositoryAgentsFolder(), input, Verbose: false,
            new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString }));

    [Test]
    public async Task Should_answer_with_the_calculator_show_each_step_and_keep_the_transcript()
    {
        var (exit, output, error) = await Run("What is 17 * 23 + 4?");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Model: agentry-offline (offline"));
        Assert.That(output, Does.Contain("Step 1").And.Contain("""call     calculator {"expression":"17 * 23 + 4"}"""));
        Assert.That(output, Does.Contain("result   calculator -> 395"));
        Assert.That(output, Does.Contain("verdict  Continue: 1 tool result observed"));
        Assert.That(output, Does.Contain("Step 2").And.Contain("verdict  Complete"));
        Assert.That(output, Does.Contain("Answer: 395"));

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        var run = await SqliteRows.Query(db, "SELECT status || '|' || answer || '|' || goal || '|' || steps FROM runs");
        Assert.That(run, Is.EqualTo(new[] { "Completed|395|What is 17 * 23 + 4?|2" }));
        var steps = await SqliteRows.Query(db, "SELECT step || '|' || coalesce(json_extract(tool_calls, '$[0].tool'), '') || '|' || coalesce(final_answer, '') || '|' || verdict FROM steps ORDER BY step");
        Assert.That(steps, Is.EqualTo(new[] { "1|calculator||Continue", "2||395|Complete" }));
        var outcomes = await SqliteRows.Query(db, "SELECT tool || '|' || output || '|' || error_kind FROM outcomes");
        Assert.That(outcomes, Is.EqualTo(new[] { "calculator|395|None" }));
    }

    [Test]
    public async Task Should_report_a_division_by_zero_as_the_tools_error_without_crashing()
    {
        var (exit, output, _) = await Run("What is 1/0?");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("result   calculator failed, Failed: Division by zero"));
        Assert.That(output, Does.Contain("Answer: I could not complete the goal: calculator failed"));
    }

    [Test]
    public async Task Should_exit_non_zero_with_the_reason_when_the_step_limit_stops_the_run()
    {
        _folder.Write("tight.yaml", """
            description: An agent with one step only
            instructions: Use the calculator.
            tools: [calculator]
            limits:
              max_steps: 1
            """);

        var (exit, output, _) = await Run("What is 2 + 3?", agent: "tight", agentsPath: _folder.Path);

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output);
        Assert.That(output, Does.Contain("Failed: Step limit reached: 1 steps taken without a final answer."));
    }

    [Test]
    public async Task Should_refuse_an_unknown_agent_before_starting()
    {
        var (exit, output, error) = await Run("What is 2 + 3?", agent: "nobody");

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.Trim(), Is.EqualTo("Unknown agent 'nobody'. Known agents: assistant, code-review, coder, customer-support, data-pipeline, handbook, lead-outreach, market-research, orchestrator, planner-demo, prior-auth."));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public async Task Should_refuse_an_empty_goal()
    {
        var (exit, _, error) = await Run("  ");

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.Contain("The goal is empty"));
    }

    [Test]
    public async Task Should_name_the_file_and_line_of_an_agent_with_an_unknown_tool()
    {
        var file = _folder.Write("broken.yaml", """
            description: Broken
            instructions: Do things.
            tools:
              - calculator
              - teleport
            """);

        var (exit, _, error) = await Run("What is 2 + 3?", agent: "broken", agentsPath: _folder.Path);

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.Contain($"{file}:5:5: unknown tool 'teleport'. Known tools: {string.Join(", ", ShippedTools.Catalog.Names)}; another agent is called as agent:NAME."));
    }

    [Test]
    public async Task Should_say_in_one_line_that_a_deployments_broker_did_not_answer_instead_of_waiting_for_the_run()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (exit, output, error) = await AgentryRun.RunAsync(new RunOptions("What is 2 + 3?", "assistant", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
            new Dictionary<string, string?> { ["Bus:StartTimeout"] = "00:00:02" }, Bus: $"amqp://guest:guest@127.0.0.1:{port}/"));

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.Trim(), Does.StartWith($"The RabbitMQ at 127.0.0.1:{port}/ did not answer within 2 s (")
            .And.EndWith("Check --bus (or ConnectionStrings__rabbitmq) and that the deployment's broker is up; Bus__StartTimeout waits longer.")
            .And.Not.Contain(Environment.NewLine), "one line, without the bus's retries or the host's stack trace");
        Assert.That(output, Is.Empty, "nothing was submitted");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the command gave up at its start timeout, not at the run's patience");
    }

    [Test]
    public async Task Should_refuse_input_that_is_not_json()
    {
        var (exit, _, error) = await Run("What is 2 + 3?", input: "{not json");

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.StartWith("--input is not valid JSON"));
    }
}
