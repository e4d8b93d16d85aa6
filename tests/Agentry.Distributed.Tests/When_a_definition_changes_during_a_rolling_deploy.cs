using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// Runs pinned to their definition, with every service its own process on RabbitMQ and Redis: the
/// Planner that starts the run has version one of the agents folder; everything else, and the
/// Planner that takes over while the run waits for a person, has version two, in which the agent
/// may no longer call the calculator. The run still acts on version one in every process.
[NonParallelizable]
public sealed class When_a_definition_changes_during_a_rolling_deploy
{
    private const string VersionOne = """
        description: Adds numbers with the calculator, with a person's approval
        instructions: Version one. Use the calculator, then answer with the number.
        tools:
          - name: calculator
            needs_approval: true
        """;

    private const string VersionTwo = """
        description: Tells the time
        instructions: Version two. Tell the time; never calculate.
        tools: [current_time]
        """;

    private readonly string _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"agentry-pin-{Guid.NewGuid():N}")).FullName;
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private HttpClient _gateway = null!;

    private string Folder(string version, string yaml)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder, version)).FullName;
        File.WriteAllText(Path.Combine(folder, "adder.yaml"), yaml);
        return folder;
    }

    [OneTimeSetUp]
    public async Task Deploy()
    {
        var two = Folder("v2", VersionTwo);
        _deployment = await Deployment.StartAsync(new Dictionary<string, string> { ["Agents__Path"] = two }, "Gateway", "ToolExecutor", "Memory", "Evaluator", "Notifier");
        await _deployment.StartAnotherAsync("Planner", "1", new Dictionary<string, string> { ["Agents__Path"] = Folder("v1", VersionOne) });
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _gateway = await _deployment.GatewayClientAsync();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _gateway.Dispose();
        await _outcomes.DisposeAsync();
        await _deployment.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task Should_act_on_the_pinned_definition_in_processes_with_the_next_one()
    {
        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "adder", "What is 2 + 3?");
        var callId = await WaitForPendingApprovalAsync(runId);

        // The rolling deploy reaches the Planner: the one with version one goes, one with version two comes.
        await _deployment.StartAnotherAsync("Planner", "2");
        await _deployment.Get("Planner", "1").KillAsync();
        var view = await _gateway.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        var definition = view.GetProperty("definition");
        Assert.That(definition.GetProperty("agentHash").GetString(), Is.EqualTo(Sha256(VersionOne)), view.ToString());
        Assert.That(definition.GetProperty("currentHash").GetString(), Is.EqualTo(Sha256(VersionTwo)));
        Assert.That(definition.GetProperty("differsFromCurrent").GetBoolean(), Is.True);

        using var decided = await _gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = true });
        Assert.That((int)decided.StatusCode, Is.EqualTo(202), await decided.Content.ReadAsStringAsync());

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Is.EqualTo("5"), "the calculator ran in a ToolExecutor whose folder no longer allows it");
        Assert.That(message.GetProperty("agentHash").GetString(), Is.EqualTo(Sha256(VersionOne)));
        var run = await _gateway.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        Assert.That(run.GetProperty("steps")[0].GetProperty("outcomes")[0].GetProperty("output").GetString(), Is.EqualTo("5"), run.ToString());
    }

    private static string Sha256(string yaml) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml.ReplaceLineEndings("\n"))));

    private async Task<string> WaitForPendingApprovalAsync(Guid runId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            using var answer = await _gateway.GetAsync("/approvals");
            if (answer.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                // Memory was busy: as any caller, ask again after the Retry-After.
                await Task.Delay(answer.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                continue;
            }

            var pending = await answer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            foreach (var approval in pending.GetProperty("approvals").EnumerateArray())
            {
                if (approval.GetProperty("runId").GetGuid() == runId)
                {
                    return approval.GetProperty("callId").GetString()!;
                }
            }

            await Task.Delay(200);
        }

        Assert.Fail($"run {runId} never waited for approval.{Environment.NewLine}{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
        return "";
    }
}
