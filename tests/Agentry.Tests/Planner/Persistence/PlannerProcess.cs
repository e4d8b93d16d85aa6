using Agentry.Agents;
using Agentry.Agents.Tools;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Agentry.Tests.Planner.Persistence;

/// One Planner process, for tests where several share one Redis: its own Redis connection, its own
/// service provider and its own bus (a test harness), with the bus conventions the services use.
/// Processes share nothing but Redis, as replicas do.
public sealed class PlannerProcess : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly ServiceProvider _provider;
    private int _published;

    private PlannerProcess(ConnectionMultiplexer redis, ServiceProvider provider, ITestHarness harness)
    {
        _redis = redis;
        _provider = provider;
        Harness = harness;
        harness.Bus.ConnectReceiveObserver(Receives);
    }

    public ITestHarness Harness { get; }

    public CompletedReceives Receives { get; } = new();

    public IServiceProvider Services => _provider;

    public static async Task<PlannerProcess> StartAsync(
        IConfiguration configuration,
        TimeProvider clock,
        AgentCatalog agents,
        Action<IServiceCollection> services,
        Action<IBusRegistrationConfigurator> stage)
    {
        var redis = await TestRedis.ConnectAnotherAsync();
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton(configuration);
        collection.AddSingleton(clock);
        collection.AddSingleton(agents);
        collection.AddSingleton(ShippedTools.Catalog);
        collection.AddSingleton<IConnectionMultiplexer>(redis);
        services(collection);
        collection.AddMassTransitTestHarness(bus => ServiceDefaults.Extensions.ConfigureAgentryBus(bus, [stage]));
        var provider = collection.BuildServiceProvider(validateScopes: true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new PlannerProcess(redis, provider, harness);
    }

    /// Publishes the messages on this process's bus and waits until each finished its receive here.
    public async Task Deliver(params object[] messages)
    {
        var expected = Interlocked.Add(ref _published, messages.Length);
        await Task.WhenAll(messages.Select(message => Harness.Bus.Publish(message)));
        await Receives.WaitFor(expected);
    }

    public IEnumerable<T> Published<T>()
        where T : class =>
        Harness.Published.Select<T>().Select(m => m.Context.Message);

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
