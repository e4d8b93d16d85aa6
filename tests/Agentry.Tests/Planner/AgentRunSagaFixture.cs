using System.Text.Json;
using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using Agentry.Planner.StateMachines;
using Agentry.Agents;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Planner;

/// The AgentRun saga alone: the tests play every other service by publishing their messages.
public abstract class AgentRunSagaFixture : HarnessFixture
{
    protected const string Tenant = "tenant-a";

    protected InMemoryRunDeadlines Deadlines { get; private set; } = null!;
    protected ISagaStateMachineTestHarness<AgentRunStateMachine, AgentRunState> Saga { get; private set; } = null!;
    protected AgentRunStateMachine Machine => Saga.StateMachine;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(maxSteps: 3, maxTokens: 1_000, deadline: "30s"));

    protected override void ConfigureServices(IServiceCollection services)
    {
        Deadlines = new InMemoryRunDeadlines();
        services.AddSingleton<IRunDeadlines>(Deadlines);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) =>
        bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState>().InMemoryRepository();

    [SetUp]
    public void FindSaga() => Saga = Harness.GetSagaStateMachineHarness<AgentRunStateMachine, AgentRunState>();

    protected async Task<Guid> StartRun(string goal = "What is 2 + 3?", string agent = "assistant")
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, agent, goal));
        return runId;
    }

    protected async Task<Guid> StartRunInState(Func<AgentRunStateMachine, State> state)
    {
        var runId = await StartRun();
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId), "the run did not start");
        await AdvanceTo(runId, state);
        return runId;
    }

    protected async Task AdvanceTo(Guid runId, Func<AgentRunStateMachine, State> state)
    {
        if (state(Machine) == Machine.LoadingContext)
        {
            return;
        }

        await Harness.Bus.Publish(ProposeCalls(runId, 1));
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId), "the run did not reach Acting");
        if (state(Machine) == Machine.Evaluating)
        {
            await Harness.Bus.Publish(Results(runId, 1));
            Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId), "the run did not reach Evaluating");
        }
    }

    protected static StepProposed ProposeCalls(Guid runId, int step, int inputTokens = 10, int outputTokens = 5) =>
        new(runId, Tenant, step, "I will add.", [new ToolCall($"call_{step}", "calculator", Json("""{"expression":"2 + 3"}"""))], null, new TokenUsage(inputTokens, outputTokens), "test-model");

    protected static StepProposed ProposeAnswer(Guid runId, int step, string answer) =>
        new(runId, Tenant, step, null, [], answer, new TokenUsage(10, 5), "test-model");

    protected static ToolResult Results(Guid runId, int step) =>
        new(runId, Tenant, "assistant", step, 3, [new ToolOutcome($"call_{step}", "calculator", Json("""{"expression":"2 + 3"}"""), "5", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(1))]);

    protected static GoalEvaluated Verdict(Guid runId, int step, Verdict verdict, string? answer = null) =>
        new(runId, Tenant, step, verdict, $"test verdict {verdict}", 1.0, answer);

    protected DeadlineMonitor DeadlineMonitor() =>
        new(Deadlines, Harness.Bus, Clock, Options.Create(new PlannerOptions()), NullLogger<DeadlineMonitor>.Instance);

    protected static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
