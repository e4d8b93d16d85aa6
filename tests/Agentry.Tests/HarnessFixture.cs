using Agentry.Agents;
using Agentry.Agents.Tools;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests;

/// A MassTransit test harness with the bus conventions the services use (retry, outbox),
/// a fake clock and the test agents. Each test gets its own provider and bus.
public abstract class HarnessFixture
{
    protected ServiceProvider Provider { get; private set; } = null!;
    protected ITestHarness Harness { get; private set; } = null!;
    protected FakeTimeProvider Clock { get; private set; } = null!;

    protected virtual AgentCatalog Agents => TestAgents.Catalog();

    /// How long the bus must be idle to count as quiet. Waits for a published message end once it
    /// is: fixtures whose consumers call a model over HTTP (a slow first call) need longer.
    protected virtual TimeSpan InactivityTimeout => TimeSpan.FromMilliseconds(300);

    protected abstract void ConfigureServices(IServiceCollection services);

    protected abstract void ConfigureBus(IBusRegistrationConfigurator bus);

    [SetUp]
    public async Task StartHarness()
    {
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton(Agents);
        services.AddSingleton(ShippedTools.Catalog);
        services.AddPinnedAgents();
        ConfigureServices(services);
        services.AddMassTransitTestHarness(bus =>
        {
            ServiceDefaults.Extensions.ConfigureAgentryBus(bus, [ConfigureBus]);
            bus.SetTestTimeouts(testInactivityTimeout: InactivityTimeout);
        });
        Provider = services.BuildServiceProvider(validateScopes: true);
        Harness = Provider.GetRequiredService<ITestHarness>();
        await Harness.Start();
    }

    [TearDown]
    public async Task StopHarness()
    {
        await Harness.Stop();
        await Provider.DisposeAsync();
    }

    /// Waits until the bus has been idle, so that "nothing else happened" can be asserted.
    protected Task Quiet() => Harness.InactivityTask;

    /// Waits for the message to be published, then returns it; fails if it was published more than once.
    /// Waits on its own (Eventually), not with the harness's Any(), which gives up once the bus has
    /// been idle: after a Quiet() in the same test it would not wait for a later publication.
    protected async Task<T> PublishedOne<T>(Func<T, bool> filter)
        where T : class
    {
        await Eventually.Find(Harness.Published, m => m.MessageObject is T message && filter(message), $"a {typeof(T).Name} to be published");
        return PublishedMessages(filter).Single();
    }

    protected IEnumerable<T> PublishedMessages<T>(Func<T, bool>? filter = null)
        where T : class =>
        Harness.Published.Select<T>().Select(m => m.Context.Message).Where(m => filter?.Invoke(m) ?? true);
}
