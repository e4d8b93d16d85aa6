using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tests;
using StackExchange.Redis;

namespace Agentry.Distributed.Tests;

/// A Planner writing run state version 1 (the default) and one writing version 2
/// (Agentry__Schema__Write=2), as processes on RabbitMQ and Redis: a run started by either is carried
/// on by the other, which reads the state and writes it back in its own version.
[NonParallelizable]
public sealed class When_planners_of_two_schema_versions_share_runs
{
    private Deployment _deployment = null!;
    private ServiceProcess _version2 = null!;
    private RunOutcomes _outcomes = null!;
    private ConnectionMultiplexer _redis = null!;

    [OneTimeSetUp]
    public async Task StartPlanners()
    {
        _deployment = await Deployment.StartAsync(extra: null, "Planner");
        _version2 = await ServiceProcess.StartAsync("Planner", "2", new Dictionary<string, string>(_deployment.Environment) { ["Agentry__Schema__Write"] = "2" });
        await _version2.KillAsync();
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.RequireRedis());
    }

    [OneTimeTearDown]
    public async Task StopPlanners()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_outcomes is not null)
        {
            await _outcomes.DisposeAsync();
        }

        if (_version2 is not null)
        {
            await _version2.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    private ServiceProcess Version1 => _deployment.Get("Planner");

    private string Logs => $"{_deployment.Logs}{Environment.NewLine}{_version2.Log}";

    private async Task<JsonElement> Stored(Guid runId, string state)
    {
        var key = $"{_deployment.Environment["Planner__Redis__KeyPrefix"]}saga:agentrun:{runId:D}";
        var stored = await Eventually.Until(async () =>
            (string?)await _redis.GetDatabase().HashGetAsync(key, "data") is { } data
                && JsonDocument.Parse(data).RootElement.GetProperty("CurrentState").GetString() == state ? data : null,
            $"run {runId} stored as {state}{Environment.NewLine}{Logs}");
        return JsonDocument.Parse(stored).RootElement.Clone();
    }

    /// Starts a run on one Planner alone, then cancels it on the other alone.
    private async Task<(JsonElement Started, JsonElement Cancelled)> StartOnThenCancelOn(ServiceProcess starter, ServiceProcess canceller)
    {
        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishAsync(_deployment.AmqpUrl, RawRabbitMq.GoalExchange, nameof(GoalReceived),
            JsonSerializer.Serialize(new { runId, tenantId = "default", agent = "assistant", goal = "What is 2 + 3?", input = new { ticket = 42 } }));
        var started = await Stored(runId, "LoadingContext");
        await starter.KillAsync();
        await canceller.StartAsync();

        await RawRabbitMq.PublishAsync(_deployment.AmqpUrl, "Agentry.Contracts:CancelRun", nameof(CancelRun),
            JsonSerializer.Serialize(new { runId, tenantId = "default", reason = "handed over" }));

        var (type, ended) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(30), () => Logs);
        Assert.That(type, Is.EqualTo(nameof(RunCancelled)), ended.ToString());
        return (started, await Stored(runId, "Cancelled"));
    }

    [Test]
    public async Task Should_carry_on_a_run_of_either_version_and_write_it_in_its_own()
    {
        var (v1, byV2) = await StartOnThenCancelOn(Version1, _version2);
        Assert.That((v1.GetProperty("SchemaVersion").GetInt32(), v1.GetProperty("InputJson").ValueKind), Is.EqualTo((1, JsonValueKind.String)));
        Assert.That((byV2.GetProperty("SchemaVersion").GetInt32(), byV2.GetProperty("InputJson").GetProperty("ticket").GetInt32()), Is.EqualTo((2, 42)));

        var (v2, byV1) = await StartOnThenCancelOn(_version2, Version1);
        Assert.That((v2.GetProperty("SchemaVersion").GetInt32(), v2.GetProperty("InputJson").GetProperty("ticket").GetInt32()), Is.EqualTo((2, 42)));
        Assert.That((byV1.GetProperty("SchemaVersion").GetInt32(), byV1.GetProperty("InputJson").GetString()), Is.EqualTo((1, """{"ticket":42}""")));
    }
}
