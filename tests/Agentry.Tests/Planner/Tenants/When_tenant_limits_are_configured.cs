using Agentry.Planner;
using Agentry.Planner.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Planner.Tenants;

/// Tenants:MaxConcurrentRuns and Tenants:Limits:<tenant>:MaxConcurrentRuns, as the Planner binds
/// them; a bad value stops the Planner when it starts (IStartupValidator is what the host runs then).
public sealed class When_tenant_limits_are_configured
{
    private static ServiceProvider Planner(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlanner(configuration);
        return services.BuildServiceProvider();
    }

    [Test]
    public async Task Should_cap_every_tenant_at_100_by_default()
    {
        await using var planner = Planner();

        planner.GetRequiredService<IStartupValidator>().Validate();
        Assert.That(planner.GetRequiredService<IOptions<TenantOptions>>().Value.MaxConcurrentRunsOf("acme"), Is.EqualTo((100, "Tenants:MaxConcurrentRuns")));
    }

    [Test]
    public async Task Should_give_a_tenant_its_own_limit_over_the_one_for_all()
    {
        await using var planner = Planner(("Tenants:MaxConcurrentRuns", "5"), ("Tenants:Limits:acme:MaxConcurrentRuns", "0"), ("Tenants:Limits:globex:MaxConcurrentRuns", "20"));

        planner.GetRequiredService<IStartupValidator>().Validate();
        var tenants = planner.GetRequiredService<IOptions<TenantOptions>>().Value;
        Assert.That(tenants.MaxConcurrentRunsOf("acme"), Is.EqualTo((0, "Tenants:Limits:acme:MaxConcurrentRuns")));
        Assert.That(tenants.MaxConcurrentRunsOf("globex"), Is.EqualTo((20, "Tenants:Limits:globex:MaxConcurrentRuns")));
        Assert.That(tenants.MaxConcurrentRunsOf("initech"), Is.EqualTo((5, "Tenants:MaxConcurrentRuns")));
    }

    [Test]
    public async Task Should_stop_at_start_on_a_limit_for_all_that_is_not_a_whole_number()
    {
        await using var planner = Planner(("Tenants:MaxConcurrentRuns", "lots"));

        var refused = Assert.Throws<InvalidOperationException>(() => planner.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(refused!.Message, Does.Contain("'lots'").And.Contain("Tenants:MaxConcurrentRuns"));
    }

    [TestCase("Tenants:Limits:acme:MaxConcurrentRuns", "lots", "Tenants:Limits:acme:MaxConcurrentRuns is 'lots', not a whole number (0 or less: no limit).")]
    [TestCase("Tenants:Limits:acme:MaxConcurrentRuns", "2.5", "Tenants:Limits:acme:MaxConcurrentRuns is '2.5', not a whole number (0 or less: no limit).")]
    [TestCase("Tenants:Limits:acme:MaxConcurentRuns", "5", "Tenants:Limits:acme sets no MaxConcurrentRuns: set Tenants:Limits:acme:MaxConcurrentRuns to a whole number (0 or less: no limit).")]
    [TestCase("Tenants:Limits:acme", "5", "Tenants:Limits:acme sets no MaxConcurrentRuns: set Tenants:Limits:acme:MaxConcurrentRuns to a whole number (0 or less: no limit).")]
    public async Task Should_stop_at_start_on_a_tenants_limit_it_cannot_read(string key, string value, string error)
    {
        await using var planner = Planner((key, value));

        var refused = Assert.Throws<OptionsValidationException>(() => planner.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(refused!.Message, Is.EqualTo(error));
    }
}
