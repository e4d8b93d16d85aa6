using System.Net.Http.Json;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// Fork and replay with every service its own process on RabbitMQ and Redis, the repository's
/// assistant on the offline model: the Gateway checks and starts them, the Planner pins the parent's
/// definition from the Redis definition store, Memory seeds the fork's transcript and builds the
/// replay's contexts from the parent's, and the ToolExecutor runs nothing for the replay.
[NonParallelizable]
public sealed class When_a_run_is_forked_and_replayed_across_processes
{
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private HttpClient _gateway = null!;

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _deployment = await Deployment.StartAsync();
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _gateway = await _deployment.GatewayClientAsync();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _gateway.Dispose();
        await _outcomes.DisposeAsync();
        await _deployment.DisposeAsync();
    }

    [Test]
    public async Task Should_fork_from_a_step_and_replay_without_running_a_tool()
    {
        var parent = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, parent, "assistant", "What is (2 + 3) * 4?");
        var (ended, _) = await _outcomes.WaitAsync(parent, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(ended, Is.EqualTo("RunCompleted"));
        var recorded = await _gateway.GetFromJsonAsync<JsonElement>($"/runs/{parent}");
        var steps = recorded.GetProperty("steps").GetArrayLength();
        Assert.That(recorded.GetProperty("steps")[0].GetProperty("toolCalls").GetArrayLength(), Is.EqualTo(1), recorded.ToString());

        using var forked = await _gateway.PostAsJsonAsync($"/runs/{parent}/fork", new { fromStep = 1, guidance = "Answer in words." });
        Assert.That((int)forked.StatusCode, Is.EqualTo(202), await forked.Content.ReadAsStringAsync());
        var fork = (await forked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
        using var replayed = await _gateway.PostAsJsonAsync($"/runs/{parent}/replay", new { });
        Assert.That((int)replayed.StatusCode, Is.EqualTo(202), await replayed.Content.ReadAsStringAsync());
        var replay = (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var (forkEnd, _) = await _outcomes.WaitAsync(fork, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        var (replayEnd, _) = await _outcomes.WaitAsync(replay, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That((forkEnd, replayEnd), Is.EqualTo(("RunCompleted", "RunCompleted")));

        var forkView = await Eventually(() => _gateway.GetFromJsonAsync<JsonElement>($"/runs/{fork}"), v => v.GetProperty("status").ToString() is "Completed" or "2");
        Assert.That(forkView.GetProperty("lineage").GetProperty("parentRunId").GetGuid(), Is.EqualTo(parent));
        Assert.That(forkView.GetProperty("lineage").GetProperty("fromStep").GetInt32(), Is.EqualTo(1));
        var forkSteps = forkView.GetProperty("steps");
        Assert.That(forkSteps[0].GetProperty("outcomes")[0].GetProperty("output").GetString(),
            Is.EqualTo(recorded.GetProperty("steps")[0].GetProperty("outcomes")[0].GetProperty("output").GetString()), "the parent's step 1, copied with its result");
        Assert.That(forkSteps[0].GetProperty("guidance").GetProperty("text").GetString(), Is.EqualTo("Answer in words."));
        Assert.That(forkView.GetProperty("definition").GetProperty("agentHash").GetString(),
            Is.EqualTo(recorded.GetProperty("definition").GetProperty("agentHash").GetString()), "pinned to the parent's definition");

        var compared = await Eventually(() => _gateway.GetFromJsonAsync<JsonElement>($"/runs/{replay}/replay"), v => v.GetProperty("decided").GetInt32() == steps);
        Assert.That(compared.GetProperty("differences").GetInt32(), Is.Zero, compared.ToString());
        var replayView = await _gateway.GetFromJsonAsync<JsonElement>($"/runs/{replay}");
        Assert.That(replayView.GetProperty("steps").EnumerateArray().Sum(s => s.GetProperty("outcomes").GetArrayLength()), Is.Zero, "no tool ran for the replay: a ToolExecutor that ran one would have reported its result, which Memory records");

        var parentView = await Eventually(() => _gateway.GetFromJsonAsync<JsonElement>($"/runs/{parent}"), v => v.TryGetProperty("children", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() == 2);
        Assert.That(parentView.GetProperty("children").EnumerateArray().Select(c => c.GetProperty("runId").GetGuid()), Is.EquivalentTo(new[] { fork, replay }));
    }

    private static async Task<JsonElement> Eventually(Func<Task<JsonElement>> read, Func<JsonElement, bool> until)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (until(value) || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                return value;
            }

            await Task.Delay(200);
        }
    }
}
