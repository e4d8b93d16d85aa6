using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// Every service its own OS process, on RabbitMQ and Redis.
[NonParallelizable]
public sealed class When_services_run_as_separate_processes
{
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _deployment = await Deployment.StartAsync();
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _outcomes.DisposeAsync();
        await _deployment.DisposeAsync();
    }

    [Test]
    public async Task Should_complete_a_run_started_by_a_plain_json_publish()
    {
        var runId = Guid.NewGuid();

        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "assistant", "What is 17 * 23 + 4?");

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Is.EqualTo("395"));
        Assert.That(message.GetProperty("steps").GetInt32(), Is.EqualTo(2));

        using var http = await _deployment.GatewayClientAsync();
        var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        Assert.That(run.GetProperty("status").GetString(), Is.EqualTo("Completed"));
        Assert.That(run.GetProperty("steps").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Should_run_a_plain_json_goal_without_a_tenant_under_the_default_tenant_in_every_service()
    {
        var runId = Guid.NewGuid();

        // Before, the saga defaulted the tenant and Memory crashed on it (NOT NULL), failing the run.
        await RawRabbitMq.PublishAsync(_deployment.AmqpUrl, RawRabbitMq.GoalExchange, "GoalReceived",
            JsonSerializer.Serialize(new { runId, agent = "assistant", goal = "What is 17 * 23 + 4?" }));

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That((type, message.GetProperty("tenantId").GetString()), Is.EqualTo(("RunCompleted", "default")), message.ToString());
        using var http = await _deployment.GatewayClientAsync();
        // Memory records the end on its own queue, in parallel with this test's: read until it has.
        var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        for (var attempt = 0; run.GetProperty("status").GetString() == "Running" && attempt < 200; attempt++)
        {
            await Task.Delay(50);
            run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        }

        Assert.That((run.GetProperty("status").GetString(), run.GetProperty("tenantId").GetString()), Is.EqualTo(("Completed", "default")));
    }

    [Test]
    public async Task Should_refuse_a_two_megabyte_goal_at_once_naming_the_field_and_the_limit()
    {
        var runId = Guid.NewGuid();

        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "assistant", new string('x', 2_000_004));

        // Within 30 s, a quarter of the assistant's 2-minute deadline: refused, not timed out.
        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(30), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunFailed"), message.ToString());
        Assert.That(message.GetProperty("reason").GetString(), Is.EqualTo("goal is 2,000,004 characters; the limit is 32,768 (Goals:MaxGoalCharacters)."));
    }

    [Test]
    public async Task Should_fail_a_goal_with_a_field_of_the_wrong_type_naming_the_field()
    {
        var runId = Guid.NewGuid();

        await RawRabbitMq.PublishAsync(_deployment.AmqpUrl, RawRabbitMq.GoalExchange, "GoalReceived",
            JsonSerializer.Serialize(new { runId, tenantId = "default", agent = "assistant", goal = 42 }));

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunFailed"), message.ToString());
        Assert.That(message.GetProperty("reason").GetString(), Does.Contain("field 'goal' has the wrong type or shape for the message"));
    }

    [Test]
    public async Task Should_start_a_run_through_the_gateway_over_http()
    {
        using var http = await _deployment.GatewayClientAsync();

        using var response = await http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 ^ 10?" });
        response.EnsureSuccessStatusCode();
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That((type, message.GetProperty("answer").GetString()), Is.EqualTo(("RunCompleted", "1024")));
    }

    [Test]
    public async Task Should_let_the_cli_submit_a_goal_to_the_deployment_and_follow_it_live()
    {
        var (exitCode, output) = await RunCliAsync("run", "What is 17 * 23 + 4?", "--bus", _deployment.AmqpUrl);

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("on the deployment at 127.0.0.1"));
        Assert.That(output, Does.Contain("call     calculator {\"expression\":\"17 * 23 + 4\"}"));
        Assert.That(output, Does.Contain("result   calculator -> 395"));
        Assert.That(output, Does.Contain("Answer: 395"));
    }

    [Test]
    public async Task Should_run_a_plan_and_execute_agent_and_show_its_plan_live_and_in_the_run()
    {
        var (exitCode, output) = await RunCliAsync("run", "What is 17 * 23 + 4, and what time is it in Tokyo?", "--agent", "planner-demo", "--bus", _deployment.AmqpUrl);

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("plan     (revision 0)"));
        Assert.That(output, Does.Contain("result   calculator -> 395"));
        Assert.That(output, Does.Contain("Answer: calculator: 395"));
        var runId = output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("Run: ", StringComparison.Ordinal))["Run: ".Length..];

        using var http = await _deployment.GatewayClientAsync();
        var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        var steps = run.GetProperty("steps");
        Assert.That(steps[0].GetProperty("plan").GetProperty("steps").GetArrayLength(), Is.EqualTo(2));
        Assert.That(steps[0].GetProperty("toolCalls").GetArrayLength(), Is.EqualTo(2), "both independent plan steps ran in one wave");
    }

    [Test]
    public async Task Should_exit_non_zero_when_the_deployment_does_not_know_the_agent()
    {
        var (exitCode, output) = await RunCliAsync("run", "What is 1 + 1?", "--agent", "nobody", "--bus", _deployment.AmqpUrl);

        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("Failed: Unknown agent 'nobody'. Known agents: assistant, code-review, coder, customer-support, data-pipeline, handbook, lead-outreach, market-research, orchestrator, planner-demo, prior-auth."));
    }

    private static Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments) => AgentryCli.RunAsync(arguments);
}
