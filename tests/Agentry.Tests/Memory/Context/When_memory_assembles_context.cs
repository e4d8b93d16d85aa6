using Agentry.Llm;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;
using Agentry.Agents;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// Memory's consumers on the real SQLite store.
public sealed class When_memory_assembles_context : HarnessFixture
{
    private const string Tenant = "tenant-a";
    private TempFolder _folder = null!;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(), TestAgents.Parse("verbose", $"""
        instructions: {string.Join(" ", Enumerable.Range(0, 600).Select(i => $"rule{i}"))}
        memory:
          context_tokens: 500
        """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        _folder = new TempFolder();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString })
            .Build();
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddMemoryConsumers();

    // A service loads its tokenizer and model layer at start (hosted services, which the harness does
    // not run): done here, so that the first context is not slower than the harness's idle timeout.
    [OneTimeSetUp]
    public void LoadTokenizer() => _ = new ContextTokens();

    // Context assembly reads the model layer and the tokenizer: more than a store write on a busy machine.
    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(1);

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static StepPlanned Step1(Guid runId) =>
        new(runId, Tenant, "assistant", 1, 8, "Use the calculator.", [new ToolCall("call_1", "calculator", Json("""{"expression":"2+3"}"""))], null, new TokenUsage(100, 10), "m");

    private static ToolResult Result1(Guid runId) =>
        new(runId, Tenant, "assistant", 1, 8, [new ToolOutcome("call_1", "calculator", Json("""{"expression":"2+3"}"""), "5", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(2))]);

    [Test]
    public async Task Should_start_with_the_instructions_and_the_goal()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 1, "What is 2+3?", Json("""{"user":"ada"}""")));

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId));
        var context = await PublishedOne<ContextLoaded>(m => m.RunId == runId);
        Assert.That(context.Messages.Select(m => m.Role), Is.EqualTo(new[] { ContextRole.System, ContextRole.User }));
        Assert.That(context.Messages[0].Content, Is.EqualTo("Use the tools."));
        Assert.That(context.Messages[1].Content, Does.StartWith("What is 2+3?").And.Contain("""{"user":"ada"}"""));
    }

    [Test]
    public async Task Should_give_the_next_step_the_calls_and_results_of_the_earlier_ones()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 1, "What is 2+3?"));
        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId));
        await Harness.Bus.Publish(Step1(runId));
        await Harness.Bus.Publish(Result1(runId));
        await Harness.Bus.Publish(new GoalEvaluated(runId, Tenant, 1, Verdict.Continue, "1 tool result observed", 1));
        Assert.That(await Harness.Consumed.Any<GoalEvaluated>(m => m.Context.Message.RunId == runId));

        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 2, "What is 2+3?"));

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));
        var context = await PublishedOne<ContextLoaded>(m => m.RunId == runId && m.Step == 2);
        Assert.That(context.Messages.Select(m => m.Role), Is.EqualTo(new[] { ContextRole.System, ContextRole.User, ContextRole.Assistant, ContextRole.Tool }));
        Assert.That(context.Messages[2].ToolCalls!.Single().Tool, Is.EqualTo("calculator"));
        Assert.That((context.Messages[3].CallId, context.Messages[3].Content), Is.EqualTo(("call_1", ToolOutcomeText.Wrap("5"))));
    }

    [Test]
    public async Task Should_wait_for_results_that_have_not_arrived_yet_rather_than_plan_without_them()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 1, "What is 2+3?"));
        await Harness.Bus.Publish(Step1(runId));
        Assert.That(await Harness.Consumed.Any<StepPlanned>(m => m.Context.Message.RunId == runId));

        // Step 2's context is asked for before step 1's results were recorded: the consumer retries.
        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 2, "What is 2+3?"));
        await Harness.Bus.Publish(Result1(runId));

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));
        var context = await PublishedOne<ContextLoaded>(m => m.RunId == runId && m.Step == 2);
        Assert.That(context.Messages[^1].Content, Is.EqualTo(ToolOutcomeText.Wrap("5")));
    }

    [Test]
    public async Task Should_show_a_failed_call_to_the_model_as_an_error()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 1, "What is 1/0?"));
        await Harness.Bus.Publish(Step1(runId));
        await Harness.Bus.Publish(new ToolResult(runId, Tenant, "assistant", 1, 8,
            [new ToolOutcome("call_1", "calculator", Json("{}"), "", ToolErrorKind.Failed, "Division by zero at position 2 in '1/0'.", TimeSpan.Zero)]));
        Assert.That(await Harness.Consumed.Any<ToolResult>(m => m.Context.Message.RunId == runId));

        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "assistant", 2, "What is 1/0?"));

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));
        Assert.That((await PublishedOne<ContextLoaded>(m => m.RunId == runId && m.Step == 2)).Messages[^1].Content,
            Is.EqualTo(ToolOutcomeText.Wrap("ERROR Failed: Division by zero at position 2 in '1/0'.")));
    }

    [Test]
    public async Task Should_record_the_whole_run_idempotently_and_answer_get_run()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "What is 2+3?"));
        await Harness.Bus.Publish(Step1(runId));
        await Harness.Bus.Publish(Step1(runId));
        await Harness.Bus.Publish(Result1(runId));
        await Harness.Bus.Publish(Result1(runId));
        await Harness.Bus.Publish(new GoalEvaluated(runId, Tenant, 1, Verdict.Continue, "observed", 1));
        await Harness.Bus.Publish(new StepPlanned(runId, Tenant, "assistant", 2, 8, null, [], "5", new TokenUsage(120, 1), "m"));
        await Harness.Bus.Publish(new GoalEvaluated(runId, Tenant, 2, Verdict.Complete, "answered", 1, "5"));
        await Harness.Bus.Publish(new RunCompleted(runId, Tenant, "assistant", "5", 2, new TokenUsage(220, 11), TimeSpan.FromSeconds(1)));
        await Quiet();

        var client = Harness.GetRequestClient<GetRun>();
        var run = (await client.GetResponse<RunView>(new GetRun(runId))).Message;

        Assert.That((run.Found, run.Status, run.Answer, run.Goal, run.Usage), Is.EqualTo((true, (RunStatus?)RunStatus.Completed, "5", "What is 2+3?", new TokenUsage(220, 11))));
        Assert.That(run.Steps, Has.Count.EqualTo(2));
        Assert.That(run.Steps[0].Outcomes, Has.Count.EqualTo(1), "a redelivered ToolResult was recorded twice");
        Assert.That((run.Steps[0].Verdict, run.Steps[1].Verdict, run.Steps[1].FinalAnswer), Is.EqualTo((Verdict.Continue, Verdict.Complete, "5")));
    }

    [Test]
    public async Task Should_end_the_run_with_the_reason_rather_than_send_a_context_over_budget()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextRequested(runId, Tenant, "verbose", 1, "What is 2+3?"));

        var fault = await PublishedOne<RunFaulted>(m => m.RunId == runId);
        Assert.That(fault.Reason, Does.Contain("does not fit agent 'verbose''s budget of 500 tokens (memory.context_tokens)"));
        Assert.That(fault.TenantId, Is.EqualTo(Tenant));
        await Quiet();
        Assert.That(PublishedMessages<ContextLoaded>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_say_a_run_is_not_found()
    {
        var client = Harness.GetRequestClient<GetRun>();

        var run = (await client.GetResponse<RunView>(new GetRun(Guid.NewGuid()))).Message;

        Assert.That(run.Found, Is.False);
    }
}
