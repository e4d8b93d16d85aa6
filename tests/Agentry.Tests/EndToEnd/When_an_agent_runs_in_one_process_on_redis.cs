using Agentry.Cli;

namespace Agentry.Tests.EndToEnd;

/// `agentry run` with the connection string `redis` set: every service in this process, with the
/// run's state, its deadline and the Evaluator's call history in the real Redis.
public sealed class When_an_agent_runs_in_one_process_on_redis : RedisFixture
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    /// `agentry run` of one of the repository's agents, with the Planner's and the Evaluator's keys
    /// under the test's prefix, and the ToolExecutor's too where the test looks at them.
    private async Task<(int Exit, string Output, string Error)> RunAsync(string goal, string agent, string keyPrefix, bool toolExecutorToo = false)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["ConnectionStrings:redis"] = TestServers.RedisConfiguration,
            ["Planner:Redis:KeyPrefix"] = keyPrefix,
            ["Evaluator:Redis:KeyPrefix"] = keyPrefix,
        };
        if (toolExecutorToo)
        {
            configuration["ToolExecutor:Redis:KeyPrefix"] = keyPrefix;
        }

        return await AgentryRun.RunAsync(new RunOptions(goal, agent, TestAgents.RepositoryAgentsFolder(), null, Verbose: false, configuration));
    }

    [Test]
    public async Task Should_answer_and_leave_only_the_finished_run_with_its_expiry()
    {
        var keyPrefix = Redis.NewKeyPrefix();

        var (exit, output, error) = await RunAsync("What is 17 * 23 + 4?", "assistant", keyPrefix);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Answer: 395"));
        var keys = await Redis.KeysAsync(keyPrefix);
        Assert.That(keys.Select(k => k.ToString()[keyPrefix.Length..]), Has.Exactly(1).Items.And.All.StartWith("saga:agentrun:"),
            "the deadline or the call history outlived the run");
        var run = await Redis.Database.HashGetAsync(keys.Single(), "data");
        Assert.That(run.ToString(), Does.Contain("\"CurrentState\":\"Completed\""));
        Assert.That(await Redis.Database.KeyTimeToLiveAsync(keys.Single()), Is.GreaterThan(TimeSpan.FromDays(6)));
    }

    [Test]
    public async Task Should_run_a_plan_and_execute_agent_with_its_plan_kept_in_the_run_state()
    {
        var keyPrefix = Redis.NewKeyPrefix();

        var (exit, output, error) = await RunAsync("What is 1/0, and what time is it in Tokyo?", "planner-demo", keyPrefix);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("plan     (revision 1)"));
        var keys = await Redis.KeysAsync(keyPrefix);
        var run = (await Redis.Database.HashGetAsync(keys.Single(k => k.ToString().Contains("saga:agentrun:", StringComparison.Ordinal)), "data")).ToString();
        Assert.That(run, Does.Contain("\"CurrentState\":\"Completed\"").And.Contain("\"Replans\":1").And.Contain("\"PlanAndExecute\":true"));
    }

    [Test]
    public async Task Should_run_sub_agents_with_their_records_and_call_counts_in_redis()
    {
        var keyPrefix = Redis.NewKeyPrefix();

        var (exit, output, error) = await RunAsync("Calculate 17 * 23 + 4; tell the time in Tokyo", "orchestrator", keyPrefix, toolExecutorToo: true);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Answer: agent:assistant: 395"));
        var keys = (await Redis.KeysAsync(keyPrefix)).Select(k => k.ToString()[keyPrefix.Length..]).ToList();
        Assert.That(keys.Count(k => k.StartsWith("saga:agentrun:", StringComparison.Ordinal)), Is.EqualTo(3), "the parent and its two children are runs of their own");
        var counted = keys.Single(k => k.EndsWith(":count:agent:assistant", StringComparison.Ordinal));
        Assert.That(await Redis.Database.SetLengthAsync(keyPrefix + counted), Is.EqualTo(2), "both calls counted against max_calls, once each");
    }
}
