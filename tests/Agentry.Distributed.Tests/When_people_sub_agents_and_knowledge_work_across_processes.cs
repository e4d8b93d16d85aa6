using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// Issue 5 and 6 features with every service its own process, on RabbitMQ and Redis: a run that
/// waits for a person's approval through the Gateway, sub-agents as child runs, and the knowledge
/// base searched by a ToolExecutor that asks Memory over the bus.
[NonParallelizable]
public sealed class When_people_sub_agents_and_knowledge_work_across_processes
{
    private readonly string _orders = Path.Combine(Path.GetTempPath(), $"agentry-orders-{Guid.NewGuid():N}.db");
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private HttpClient _gateway = null!;

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _deployment = await Deployment.StartAsync(new Dictionary<string, string> { ["Tools__Orders__ConnectionString"] = $"Data Source={_orders}" });
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _gateway = await _deployment.GatewayClientAsync();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _gateway.Dispose();
        await _outcomes.DisposeAsync();
        await _deployment.DisposeAsync();
        File.Delete(_orders);
    }

    [Test]
    public async Task Should_hold_a_refund_until_a_person_approves_it_through_the_gateway()
    {
        using var started = await _gateway.PostAsJsonAsync("/runs", new { agent = "customer-support", goal = "Refund order 1042, the customer received a broken kettle." });
        started.EnsureSuccessStatusCode();
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var callId = await WaitForPendingApprovalAsync(runId, TimeSpan.FromSeconds(60));
        using var decided = await _gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = true, by = "alice", comment = "broken on arrival" });
        Assert.That((int)decided.StatusCode, Is.EqualTo(202), await decided.Content.ReadAsStringAsync());

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Does.StartWith("Refunded 249.99 EUR for order 1042"));

        using var again = await _gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = false, by = "bob", comment = "too late" });
        Assert.That((int)again.StatusCode, Is.EqualTo(409), "a decided call cannot be decided again");
    }

    [Test]
    public async Task Should_run_sub_agents_as_child_runs_in_parallel()
    {
        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "orchestrator", "Calculate 17 * 23 + 4; calculate 6 * 7");

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(90), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        var run = await _gateway.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        var outcomes = run.GetProperty("steps")[0].GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("output").GetString()).ToList();
        Assert.That(outcomes, Has.Count.EqualTo(2), run.ToString());
        Assert.That(outcomes, Has.Some.Contains("395").And.Some.Contains("42"), "each child's answer is its call's result");
    }

    [Test]
    public async Task Should_answer_from_an_ingested_folder_with_a_citation()
    {
        var (exit, output) = await CliAsync("kb", "ingest", "handbook", Path.Combine(Repository.Root, "samples", "handbook"));
        Assert.That(exit, Is.EqualTo(0), output);

        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "handbook", "How many days of paid vacation do I get?");

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Does.Contain("27 days of paid vacation").And.Contain("[leave.md, passage"));
    }

    private async Task<string> WaitForPendingApprovalAsync(Guid runId, TimeSpan timeout)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < timeout; await Task.Delay(200))
        {
            var pending = await _gateway.GetFromJsonAsync<JsonElement>("/approvals");
            foreach (var approval in pending.GetProperty("approvals").EnumerateArray())
            {
                if (approval.GetProperty("runId").GetGuid() == runId)
                {
                    Assert.That(approval.GetProperty("tool").GetString(), Is.EqualTo("refund_order"));
                    return approval.GetProperty("callId").GetString()!;
                }
            }
        }

        Assert.Fail($"run {runId} never waited for an approval{Environment.NewLine}{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
        return "";
    }

    /// The CLI against the deployment's own store (the embedded-mode commands read the same settings).
    private Task<(int ExitCode, string Output)> CliAsync(params string[] arguments) =>
        AgentryCli.RunAsync(arguments, new Dictionary<string, string> { ["ConnectionStrings__sqlite"] = _deployment.Environment["ConnectionStrings__sqlite"] });
}
