using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

/// The ToolExecutor on a MassTransit test harness that each test starts itself, because each test
/// composes its own services (settings, agents, tools); stopped with its services after the test.
public abstract class ToolExecutorHarnessFixture
{
    private ServiceProvider? _provider;

    protected ITestHarness Harness { get; private set; } = null!;

    protected async Task StartHarnessAsync(IServiceCollection services, Action<IBusRegistrationConfigurator> consumers)
    {
        services.AddMassTransitTestHarness(consumers);
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        Harness = _provider.GetRequiredService<ITestHarness>();
        await Harness.Start();
    }

    [TearDown]
    public async Task StopHarness()
    {
        if (_provider is not null)
        {
            await Harness.Stop();
            await _provider.DisposeAsync();
            _provider = null;
        }
    }
}
