using System.Text.Json;
using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Persistence;
using Agentry.Planner.StateMachines;
using Agentry.ServiceDefaults.Versions;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Planner.Persistence;

/// Two Planners on one Redis, one writing run state version 1 (the default) and one version 2
/// (Agentry:Schema:Write=2), as during a rolling deploy: each carries on the other's runs.
public sealed class When_run_state_versions_meet : RedisFixture
{
    private const string Tenant = "tenant-a";
    private static readonly ToolCall Sum = new("call_1", "calculator", JsonDocument.Parse("""{"expression":"2 + 3"}""").RootElement.Clone());

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    private string _keyPrefix = "";

    [SetUp]
    public void UseNewKeys() => _keyPrefix = Redis.NewKeyPrefix();

    private Task<PlannerProcess> Planner(int write)
    {
        var configuration = TestRedis.Configuration(_keyPrefix, write == 1 ? [] : [("Agentry:Schema:Write", write.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        return PlannerProcess.StartAsync(
            configuration,
            _clock,
            TestAgents.Catalog(),
            services => services.AddPlanner(configuration),
            bus => bus.AddPlannerConsumers(configuration));
    }

    private async Task<JsonElement> Stored(Guid runId)
    {
        var data = (string?)await Redis.Multiplexer.GetDatabase().HashGetAsync($"{_keyPrefix}saga:agentrun:{runId:D}", "data");
        Assert.That(data, Is.Not.Null, $"Redis holds no run {runId}");
        return JsonDocument.Parse(data!).RootElement.Clone();
    }

    private static async Task<AgentRunState> Load(PlannerProcess planner, Guid runId) =>
        (await planner.Services.GetRequiredService<ILoadSagaRepository<AgentRunState>>().Load(runId))!;

    [TestCase(1, 2)]
    [TestCase(2, 1)]
    public async Task Should_carry_a_run_on_whichever_version_wrote_its_last_step(int first, int second)
    {
        await using var a = await Planner(first);
        await using var b = await Planner(second);
        var runId = NewId.NextGuid();

        await a.Deliver(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?", JsonDocument.Parse("""{"ticket":42}""").RootElement.Clone()));
        Assert.That((await Stored(runId)).GetProperty("SchemaVersion").GetInt32(), Is.EqualTo(first));

        await b.Deliver(new StepProposed(runId, Tenant, 1, "Add them.", [Sum], null, new TokenUsage(10, 5), "test-model"));
        var proposed = await Stored(runId);
        Assert.That(proposed.GetProperty("SchemaVersion").GetInt32(), Is.EqualTo(second));
        // Version 2 keeps the accepted step as JSON, version 1 as a string of it.
        Assert.That(proposed.GetProperty("PlannedStepJson").ValueKind, Is.EqualTo(second == 2 ? JsonValueKind.Object : JsonValueKind.String));
        Assert.That(proposed.GetProperty("InputJson").ValueKind, Is.EqualTo(second == 2 ? JsonValueKind.Object : JsonValueKind.String));

        await a.Deliver(new ToolResult(runId, Tenant, "assistant", 1, 3, [new ToolOutcome("call_1", "calculator", Sum.Arguments, "5", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(3))]));
        Assert.That((await Stored(runId)).GetProperty("SchemaVersion").GetInt32(), Is.EqualTo(first));
        var evaluating = await Load(b, runId);
        Assert.That(evaluating.CurrentState, Is.EqualTo("Evaluating"));
        Assert.That(JsonDocument.Parse(evaluating.InputJson!).RootElement.GetProperty("ticket").GetInt32(), Is.EqualTo(42));
        Assert.That(JsonSerializer.Deserialize<StepPlanned>(evaluating.PlannedStepJson!, MassTransit.Serialization.SystemTextJsonMessageSerializer.Options)!.ToolCalls.Single().CallId, Is.EqualTo("call_1"));

        await b.Deliver(new GoalEvaluated(runId, Tenant, 1, Verdict.Complete, "done", 1, "5"));
        Assert.That((await Load(a, runId)).CurrentState, Is.EqualTo("Completed"));
        Assert.That(b.Published<RunCompleted>().Single(m => m.RunId == runId).Answer, Is.EqualTo("5"));
        // Each write was a step of the same run: no version mix-up cost a retry or a fault.
        Assert.That(a.Published<Fault>().Concat(b.Published<Fault>()), Is.Empty);
    }

    [Test]
    public async Task Should_refuse_a_state_of_a_version_it_does_not_read_naming_the_run_and_the_versions()
    {
        await using var planner = await Planner(2);
        var runId = NewId.NextGuid();
        await planner.Deliver(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?"));
        var key = $"{_keyPrefix}saga:agentrun:{runId:D}";
        var data = (string)(await Redis.Multiplexer.GetDatabase().HashGetAsync(key, "data"))!;
        await Redis.Multiplexer.GetDatabase().HashSetAsync(key, "data", data.Replace("\"SchemaVersion\":2", "\"SchemaVersion\":99", StringComparison.Ordinal));

        var refused = Assert.ThrowsAsync<UnreadableVersionException>(() => Load(planner, runId));

        Assert.That(refused!.Message, Does.Contain($"AgentRunState {runId}").And.Contain("schema version 99").And.Contain("versions 1, 2").And.Contain("newer build"));
        Assert.That((refused.RunId, refused.Found, refused.IsRunState), Is.EqualTo(((Guid?)runId, 99, true)));
    }

    [Test]
    public void Should_refuse_to_start_with_a_write_version_it_does_not_have()
    {
        var configuration = TestRedis.Configuration(_keyPrefix, [("Agentry:Schema:Write", "3")]);

        var services = new ServiceCollection().AddSingleton(configuration).AddPlanner(configuration);
        using var provider = services.BuildServiceProvider();

        // What ValidateOnStart checks when the Planner's host starts.
        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<SchemaOptions>>().Value);

        Assert.That(refused!.Message, Does.Contain("Agentry:Schema:Write").And.Contain("1 or 2"));
    }
}
