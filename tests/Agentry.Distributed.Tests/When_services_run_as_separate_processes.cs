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

        using var http = new HttpClient { BaseAddress = _deployment.Get("Gateway").BaseAddress };
        var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        Assert.That(run.GetProperty("status").GetString(), Is.EqualTo("Completed"));
        Assert.That(run.GetProperty("steps").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Should_start_a_run_through_the_gateway_over_http()
    {
        using var http = new HttpClient { BaseAddress = _deployment.Get("Gateway").BaseAddress };

        using var response = await http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 ^ 10?" });
        response.EnsureSuccessStatusCode();
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That((type, message.GetProperty("answer").GetString()), Is.EqualTo(("RunCompleted", "1024")));
    }
}
