using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Persistence;
using Agentry.Planner.StateMachines;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Agentry.Tests.Planner.Persistence;

/// The AgentRun saga on the real Redis, registered exactly as the Planner registers it when the
/// connection string `redis` is set: runs and deadlines live in Redis under a key prefix of the test's own.
public abstract class RedisAgentRunSagaFixture : AgentRunSagaFixture
{
    private TestRedis? _redis;

    protected TestRedis Redis => _redis ?? throw new InvalidOperationException("Redis is not connected.");

    protected string KeyPrefix { get; private set; } = "";

    protected IConfiguration Configuration { get; private set; } = null!;

    /// Extra configuration for the Planner (for example a shorter retention).
    protected virtual (string Key, string Value)[] Settings => [];

    private int _published;

    protected CompletedReceives Receives { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task ConnectRedis() => _redis = await TestRedis.ConnectAsync();

    [SetUp]
    public void CountReceives()
    {
        _published = 0;
        Receives = new CompletedReceives();
        Harness.Bus.ConnectReceiveObserver(Receives);
    }

    [OneTimeTearDown]
    public async Task DisconnectRedis()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        KeyPrefix = Redis.NewKeyPrefix();
        Configuration = TestRedis.Configuration(KeyPrefix, Settings);
        services.AddSingleton(Configuration);
        // The fixture's connection, shared by every test: the Planner would make its own.
        services.AddSingleton(Redis.Multiplexer);
        services.AddPlanner(Configuration);
    }

    /// How many messages each endpoint consumes at once; 0 keeps the transport's default.
    protected virtual int ConcurrentMessageLimit => 0;

    protected override void ConfigureBus(IBusRegistrationConfigurator bus)
    {
        bus.AddPlannerConsumers(Configuration);
        if (ConcurrentMessageLimit > 0)
        {
            bus.AddConfigureEndpointsCallback((_, _, endpoint) => endpoint.ConcurrentMessageLimit = ConcurrentMessageLimit);
        }
    }

    protected RedisKey RunKey(Guid runId) => $"{KeyPrefix}saga:agentrun:{runId:D}";

    /// The run as MassTransit loads it from Redis, or null.
    protected Task<AgentRunState?> Load(Guid runId) =>
        Provider.GetRequiredService<ILoadSagaRepository<AgentRunState>>().Load(runId)!;

    /// Publishes the messages all at once and waits until the saga finished with each of them
    /// (written to Redis, retried after conflicts, outbox delivered).
    protected async Task Deliver(params object[] messages)
    {
        _published += messages.Length;
        await Task.WhenAll(messages.Select(message => Harness.Bus.Publish(message)));
        await Receives.WaitFor(_published);
    }

    /// Runs something that publishes `messages` messages to the saga and waits until it finished with them.
    protected async Task Deliver(Func<Task> publish, int messages)
    {
        _published += messages;
        await publish();
        await Receives.WaitFor(_published);
    }

    /// Starts a run and waits until the saga has written it.
    protected async Task<Guid> Start(string agent = "assistant", string goal = "What is 2 + 3?")
    {
        var runId = NewId.NextGuid();
        await Deliver(new GoalReceived(runId, Tenant, agent, goal));
        return runId;
    }

    /// The run as Redis holds it, which must be in the state.
    protected async Task<AgentRunState> StoredIn(Guid runId, Func<AgentRunStateMachine, State> state)
    {
        var run = await Load(runId);
        Assert.That(run, Is.Not.Null, $"Redis holds no run {runId}");
        Assert.That(run!.CurrentState, Is.EqualTo(state(Machine).Name), $"the state of run {runId} in Redis");
        return run;
    }

    protected static bool IsFinished(AgentRunState run) => AgentRunStateMachine.FinishedStates.Contains(run.CurrentState);

    protected static PlannerRedisOptions Defaults { get; } = new();
}
