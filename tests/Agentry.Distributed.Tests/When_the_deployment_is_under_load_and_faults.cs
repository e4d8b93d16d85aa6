using Agentry.Tests;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Agentry.Distributed.Tests;

/// Scaling and faults, each on a deployment of its own.
[NonParallelizable]
public sealed partial class When_the_deployment_is_under_load_and_faults
{
    private static readonly Dictionary<string, string> ToolExecutorLogs = new() { ["Logging__LogLevel__Agentry"] = "Information" };

    [Test]
    public async Task Should_share_the_tool_calls_of_50_concurrent_runs_between_two_tool_executors()
    {
        await using var deployment = await Deployment.StartAsync(ToolExecutorLogs);
        var second = await deployment.StartAnotherAsync("ToolExecutor", "2");
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);

        var runs = Enumerable.Range(1, 50).Select(i => (RunId: Guid.NewGuid(), A: i, B: i * 7)).ToList();
        await Task.WhenAll(runs.Select(r => RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, r.RunId, "assistant", $"What is {r.A} * {r.B}?")));

        foreach (var run in runs)
        {
            var (type, message) = await outcomes.WaitAsync(run.RunId, TimeSpan.FromSeconds(120), () => deployment.Logs);
            Assert.That((type, message.GetProperty("answer").GetString()), Is.EqualTo(("RunCompleted", (run.A * run.B).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        var first = StepsRun(deployment.Get("ToolExecutor").Log);
        var other = StepsRun(second.Log);
        TestContext.Progress.WriteLine($"ToolExecutor 1 ran {first} steps, ToolExecutor 2 ran {other}.");
        Assert.That(first, Is.GreaterThan(0), "the first ToolExecutor did no work");
        Assert.That(other, Is.GreaterThan(0), "the second ToolExecutor did no work");
        Assert.That(first + other, Is.EqualTo(50), "every run has exactly one tool step");
    }

    [Test]
    public async Task Should_move_a_malformed_message_to_the_error_queue_and_fail_only_its_run()
    {
        await using var deployment = await Deployment.StartAsync();
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        var poisoned = Guid.NewGuid();
        var healthy = Enumerable.Range(1, 3).Select(_ => Guid.NewGuid()).ToList();

        await RawRabbitMq.PublishAsync(deployment.AmqpUrl, RawRabbitMq.GoalExchange, "GoalReceived",
            JsonSerializer.Serialize(new { runId = poisoned, tenantId = "default", agent = "assistant", goal = "What is 1 + 1?", limits = new { maxSteps = "many" } }));
        await Task.WhenAll(healthy.Select(id => RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, id, "assistant", "What is 6 * 7?")));

        var (type, message) = await outcomes.WaitAsync(poisoned, TimeSpan.FromSeconds(60), () => deployment.Logs);
        Assert.That(type, Is.EqualTo("RunFailed"));
        Assert.That(message.GetProperty("reason").GetString(), Does.Contain("GoalReceived of this run could not be processed").And.Contain("_error"));
        foreach (var id in healthy)
        {
            var (healthyType, healthyMessage) = await outcomes.WaitAsync(id, TimeSpan.FromSeconds(60), () => deployment.Logs);
            Assert.That((healthyType, healthyMessage.GetProperty("answer").GetString()), Is.EqualTo(("RunCompleted", "42")));
        }

        // The broker's queue statistics are refreshed every few seconds: ask until they show it.
        var errorQueues = await deployment.ErrorQueueDepthsAsync();
        for (var clock = Stopwatch.StartNew(); errorQueues.GetValueOrDefault("agent-run-state_error") == 0 && clock.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(500);
            errorQueues = await deployment.ErrorQueueDepthsAsync();
        }

        Assert.That(errorQueues.GetValueOrDefault("agent-run-state_error"), Is.GreaterThanOrEqualTo(1), string.Join(", ", errorQueues));
    }

    [Test]
    public async Task Should_reconnect_and_complete_the_runs_when_rabbitmq_restarts()
    {
        // A node of its own: a restart of the shared one breaks the suites running beside this one.
        await using var broker = await RabbitMqServer.StartAsync();
        await using var deployment = await Deployment.StartAsync(broker);
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        var runs = Enumerable.Range(1, 20).Select(_ => Guid.NewGuid()).ToList();

        await Task.WhenAll(runs.Take(10).Select(id => RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, id, "assistant", "What is 12 * 12?")));
        await broker.RestartAsync(TimeSpan.Zero);
        await using var outcomesAfterRestart = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        await Task.WhenAll(runs.Skip(10).Select(id => RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, id, "assistant", "What is 12 * 12?")));

        using var http = await deployment.GatewayClientAsync();
        foreach (var id in runs)
        {
            // Outcomes published while the first subscriber's connection was down are read back from Memory.
            var status = await WaitForStatusAsync(http, id, TimeSpan.FromSeconds(90));
            if (status != "Completed")
            {
                Assert.Fail($"run {id} is {status ?? "unknown"}, not Completed{Environment.NewLine}{await deployment.DescribeAsync()}{Environment.NewLine}{deployment.Logs}");
            }
        }

        // The consumer watchdog's work, when it had to step in (see ConsumerWatchdog).
        foreach (var process in deployment.Processes.Where(p => p.Log.Contains("[supervisor] exited with code 1", StringComparison.Ordinal)))
        {
            TestContext.Progress.WriteLine($"{process.Service}/{process.Instance} stopped itself after the broker restart (an endpoint had lost its consumer) and was started again.");
        }
    }

    private static async Task<string?> WaitForStatusAsync(HttpClient http, Guid runId, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string? status = null;
        while (clock.Elapsed < timeout)
        {
            using var response = await http.GetAsync($"/runs/{runId}");
            if (response.IsSuccessStatusCode)
            {
                status = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString();
                if (status is "Completed" or "Failed" or "Escalated" or "Cancelled")
                {
                    return status;
                }
            }

            await Task.Delay(200);
        }

        return status;
    }

    private static int StepsRun(string log) => StepRunPattern().Count(log);

    [GeneratedRegex(@"Ran \d+ tool call\(s\) of step")]
    private static partial Regex StepRunPattern();
}
