using Agentry.Llm;
using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Planning;
using Agentry.Tests.Llm;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Planner;

/// The planning consumer through the real Semantic Kernel OpenAI connector against the scripted
/// fake: tool arguments are checked against the tool's schema before the step is proposed, and an
/// invalid reply is sent back with the error, a bounded number of times.
public sealed class When_the_model_proposes_invalid_tool_arguments : HarnessFixture
{
    private OpenAiFake _fake = null!;

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override void ConfigureServices(IServiceCollection services)
    {
        _fake = OpenAiFake.Start();
        var settings = new Dictionary<string, string?>
        {
            ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Model"] = "gpt-fake",
            ["Llm:Prices:gpt-fake:InputPerMillion"] = "2.5",
            ["Llm:Prices:gpt-fake:OutputPerMillion"] = "10",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlanner(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<PlanStepConsumer>();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    private async Task<StepProposed> Plan(string goal = "What is 6 * 7?")
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new ContextLoaded(runId, "t", "assistant", 1,
            [new ContextMessage(ContextRole.System, "Use the tools."), new ContextMessage(ContextRole.User, goal)]));
        return await PublishedOne<StepProposed>(m => m.RunId == runId);
    }

    [Test]
    public async Task Should_show_the_model_the_error_and_propose_its_corrected_call()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "calculator", """{"expression": 42}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "calculator", """{"expression": "6 * 7"}"""));

        var proposal = await Plan();

        Assert.That(proposal.Error, Is.Null);
        Assert.That(proposal.ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        // The second request carries the invalid call and its error, answered as the call's tool result.
        var messages = _fake.Requests[1].Messages.EnumerateArray().ToList();
        var invalidTurn = messages[^2];
        Assert.That(invalidTurn.GetProperty("role").GetString(), Is.EqualTo("assistant"));
        Assert.That(invalidTurn.GetProperty("tool_calls")[0].GetProperty("id").GetString(), Is.EqualTo("call_1"));
        var error = messages[^1];
        Assert.That(error.GetProperty("role").GetString(), Is.EqualTo("tool"));
        Assert.That(error.GetProperty("tool_call_id").GetString(), Is.EqualTo("call_1"));
        Assert.That(ToolOutcomeText.Unwrap(error.GetProperty("content").ToString()), Does.StartWith("ERROR InvalidArguments: Invalid arguments for calculator: /expression: ").And.Contain("string"));
        // Both replies were paid for: 2 x (10 in, 5 out) at $2.50 and $10 per million.
        Assert.That(proposal.Usage, Is.EqualTo(new TokenUsage(20, 10)));
        Assert.That(proposal.Cost, Is.EqualTo(0.00015m));
    }

    [Test]
    public async Task Should_fail_the_step_naming_the_tool_and_the_error_past_the_bound()
    {
        for (var i = 0; i < 3; i++)
        {
            _fake.ReplyWithToolCalls(new FakeToolCall($"call_{i}", "calculator", """{"expr": "6 * 7"}"""));
        }

        var proposal = await Plan();

        Assert.That(_fake.RequestCount, Is.EqualTo(3), "one ask and two re-asks");
        Assert.That(proposal.ToolCalls, Is.Empty);
        Assert.That(proposal.Error, Is.EqualTo(
            "the model proposed invalid tool arguments 3 times (2 re-asks allowed): calculator: arguments: Required properties [\"expression\"] are not present; /expr: All values fail against the false schema"));
        Assert.That(proposal.Usage, Is.EqualTo(new TokenUsage(30, 15)));
        Assert.That(proposal.Cost, Is.EqualTo(0.000225m));
    }

    [Test]
    public async Task Should_refuse_arguments_that_are_not_json_at_all()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "calculator", """{"expression": "6 * 7" """))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "calculator", """{"expression": "6 * 7"}"""));

        var proposal = await Plan();

        Assert.That(proposal.Error, Is.Null);
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        Assert.That(_fake.Requests[1].Messages.EnumerateArray().Last().GetProperty("content").ToString(),
            Does.Contain("the arguments must be a JSON object, not the string"));
    }

    [Test]
    public async Task Should_leave_a_call_to_an_unknown_tool_to_the_tool_executor()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "teleport", """{"to": "Mars"}"""));

        var proposal = await Plan();

        Assert.That(proposal.Error, Is.Null);
        Assert.That(proposal.ToolCalls.Single().Tool, Is.EqualTo("teleport"));
        Assert.That(_fake.RequestCount, Is.EqualTo(1));
    }
}

/// Planner:MaxReasks bounds the re-asks; 0 turns them off.
public sealed class When_re_asks_are_turned_off : HarnessFixture
{
    private OpenAiFake _fake = null!;

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override void ConfigureServices(IServiceCollection services)
    {
        _fake = OpenAiFake.Start();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Model"] = "gpt-fake",
            ["Planner:MaxReasks"] = "0",
        }).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlanner(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<PlanStepConsumer>();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    [Test]
    public async Task Should_fail_the_step_after_the_first_invalid_reply()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "calculator", """{"expression": ""}"""));
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextLoaded(runId, "t", "assistant", 1, [new ContextMessage(ContextRole.User, "What is 6 * 7?")]));

        var proposal = await PublishedOne<StepProposed>(m => m.RunId == runId);
        Assert.That(proposal.Error, Does.StartWith("the model proposed invalid tool arguments once (0 re-asks allowed): calculator: /expression: "));
        Assert.That(_fake.RequestCount, Is.EqualTo(1));
        Assert.That(proposal.Cost, Is.Zero, "a model with no price costs nothing");
    }
}
