using Agentry.Evaluator;
using Agentry.Planner;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using Agentry.Planner.StateMachines;
using Agentry.Planner.Tenants;
using MassTransit;
using MassTransit.Saga;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Tests.Planner.Persistence;

/// The embedded mode needs nothing installed; the connection string `redis` alone moves run state,
/// deadlines, tenants' running runs and call history to Redis. These tests only look at registrations: no server is needed.
public sealed class When_the_stores_are_chosen_by_configuration
{
    private static (IServiceCollection Services, ServiceProvider Provider) Register(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(configuration);
        services.AddPlanner(configuration);
        services.AddEvaluator(configuration);
        services.AddMassTransit(bus => bus.AddPlannerConsumers(configuration));
        return (services, services.BuildServiceProvider());
    }

    [Test]
    public async Task Should_keep_runs_deadlines_and_call_history_in_memory_without_a_redis_connection_string()
    {
        var (services, provider) = Register(new ConfigurationBuilder().Build());
        await using var _ = provider;
        await using var scope = provider.CreateAsyncScope();

        Assert.That(scope.ServiceProvider.GetRequiredService<ISagaRepositoryContextFactory<AgentRunState>>(), Is.InstanceOf<InMemorySagaRepositoryContextFactory<AgentRunState>>());
        Assert.That(provider.GetRequiredService<IRunDeadlines>(), Is.InstanceOf<InMemoryRunDeadlines>());
        Assert.That(provider.GetRequiredService<ITenantRunSlots>(), Is.InstanceOf<InMemoryTenantRunSlots>());
        Assert.That(provider.GetRequiredService<ICallHistory>(), Is.InstanceOf<InMemoryCallHistory>());
        Assert.That(services.Any(s => s.ServiceType == typeof(IConnectionMultiplexer)), Is.False, "a Redis connection is registered");
    }

    [Test]
    public async Task Should_keep_them_in_redis_when_the_connection_string_is_set()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:redis"] = "127.0.0.1:6379" })
            .Build();
        var (services, provider) = Register(configuration);
        await using var _ = provider;

        Assert.That(Implementation<ISagaRepositoryContextFactory<AgentRunState>>(services), Is.EqualTo(typeof(RedisSagaRepositoryContextFactory<AgentRunState>)));
        Assert.That(Implementation<IRunDeadlines>(services), Is.EqualTo(typeof(RedisRunDeadlines)));
        Assert.That(Implementation<ITenantRunSlots>(services), Is.EqualTo(typeof(RedisTenantRunSlots)));
        Assert.That(Implementation<ICallHistory>(services), Is.EqualTo(typeof(RedisCallHistory)));
        Assert.That(services.Count(s => s.ServiceType == typeof(IConnectionMultiplexer)), Is.EqualTo(1), "one connection shared by every store");
        var redisCheck = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == "redis");
        Assert.That(redisCheck.Tags, Does.Contain("ready"));
        var options = provider.GetRequiredService<IOptions<PlannerRedisOptions>>().Value;
        Assert.That((options.RunKeyPrefix, options.FinishedRunRetention), Is.EqualTo(("agentry:saga:agentrun:", TimeSpan.FromDays(7))));
    }

    private static Type? Implementation<T>(IServiceCollection services) =>
        services.Single(s => s.ServiceType == typeof(T)).ImplementationType;
}
