using System.Collections.Concurrent;
using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Planning;
using Agentry.Agents;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Llm;

/// PlanStepConsumer with an agent whose model is a declared provider: the proposal records the
/// model that answered, and a repeated identical step is answered from the cache at no cost.
public sealed class When_the_planner_asks_a_provider_model : HarnessFixture
{
    private OpenAiFake _fake = null!;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Parse("assistant", """
        instructions: Use the tools.
        model: { provider: fake, name: gpt-fake }
        tools: [calculator]
        """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        _fake = OpenAiFake.Start();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:Providers:fake:Kind"] = "openai-compatible",
            ["Llm:Providers:fake:Endpoint"] = _fake.BaseUrl.ToString(),
            // The harness's clock is a fake one that never moves: no retry could ever be waited for.
            ["Llm:Providers:fake:MaxRetries"] = "0",
        }).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlanner(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<PlanStepConsumer>();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    private static ContextLoaded Step(Guid runId) =>
        new(runId, "t", "assistant", 1, [new ContextMessage(ContextRole.System, "Use the tools."), new ContextMessage(ContextRole.User, "What is 6 * 7?")]);

    [Test]
    public async Task Should_propose_the_models_call_then_answer_a_repeated_step_from_the_cache()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_9", "tools-calculator", """{"expression":"6 * 7"}"""));
        var first = NewId.NextGuid();
        var second = NewId.NextGuid();

        var proposals = new ProposalObserver();
        using var _ = Harness.Bus.ConnectPublishObserver(proposals);

        await Harness.Bus.Publish(Step(first));
        var fresh = await proposals.For(first);
        await Harness.Bus.Publish(Step(second));
        var cached = await proposals.For(second);

        Assert.That(fresh.Error, Is.Null);
        Assert.That(fresh.ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(fresh.Model, Is.EqualTo("gpt-fake"));
        Assert.That(fresh.CacheHit, Is.False);
        Assert.That(fresh.Usage, Is.EqualTo(new TokenUsage(10, 5)));
        Assert.That(cached.CacheHit, Is.True);
        Assert.That(cached.Usage, Is.EqualTo(TokenUsage.None));
        Assert.That(cached.ToolCalls, Is.EqualTo(fresh.ToolCalls).Using<ToolCall>((a, b) => a.CallId == b.CallId && a.Tool == b.Tool));
        Assert.That(_fake.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Should_propose_a_clear_failure_when_the_model_sends_malformed_json()
    {
        _fake.ReplyWithMalformedJson();
        var runId = NewId.NextGuid();

        var proposals = new ProposalObserver();
        using var _ = Harness.Bus.ConnectPublishObserver(proposals);

        await Harness.Bus.Publish(Step(runId));
        var proposal = await proposals.For(runId);

        Assert.That(proposal.Error, Does.StartWith("The model gpt-fake: its reply is not a readable chat completion (malformed JSON"));
        Assert.That(proposal.Model, Is.EqualTo("gpt-fake"));
    }

    /// The harness's Published.Any gives up after 300 ms of quiet; a first real HTTP call to a
    /// connector (compiled on first use) can take seconds, so these tests wait for the proposal itself.
    private sealed class ProposalObserver : IPublishObserver
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<StepProposed>> _proposals = new();

        public Task<StepProposed> For(Guid runId) =>
            _proposals.GetOrAdd(runId, _ => new TaskCompletionSource<StepProposed>(TaskCreationOptions.RunContinuationsAsynchronously))
                .Task.WaitAsync(TimeSpan.FromMinutes(1));

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class
        {
            if (context.Message is StepProposed proposal)
            {
                _proposals.GetOrAdd(proposal.RunId, _ => new TaskCompletionSource<StepProposed>(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult(proposal);
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }
}
