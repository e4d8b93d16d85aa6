using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Hosting;

/// SIGTERM: how long messages in flight may take to finish before the process goes.
public sealed class When_a_service_is_asked_to_stop
{
    [Test]
    public void Should_give_messages_in_flight_thirty_seconds_by_default()
    {
        using var services = Build([]);

        Assert.That(services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        var bus = services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value;
        Assert.That((bus.StopTimeout, bus.ConsumerStopTimeout), Is.EqualTo(((TimeSpan?)TimeSpan.FromSeconds(30), (TimeSpan?)TimeSpan.FromSeconds(24))));
    }

    [Test]
    public void Should_take_the_time_from_shutdown_timeout()
    {
        using var services = Build(new() { ["Shutdown:Timeout"] = "00:00:10" });

        Assert.That(services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value.ConsumerStopTimeout, Is.EqualTo(TimeSpan.FromSeconds(8)));
    }

    [Test]
    public void Should_refuse_a_time_that_is_not_positive()
    {
        var problem = Assert.Throws<InvalidOperationException>(() => Build(new() { ["Shutdown:Timeout"] = "00:00:00" }));

        Assert.That(problem!.Message, Does.Contain("Shutdown:Timeout must be a positive time span such as 00:00:30 (environment Shutdown__Timeout)"));
    }

    [TestCase("Agentry.Planner", "agentry-planner")]
    [TestCase("Agentry.ToolExecutor", "agentry-tool-executor")]
    [TestCase("agentry", "agentry")]
    public void Should_name_the_service_after_its_application(string application, string serviceName) =>
        Assert.That(Extensions.ServiceName(application), Is.EqualTo(serviceName));

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddAgentryCore(configuration, "test");
        return services.BuildServiceProvider();
    }
}
