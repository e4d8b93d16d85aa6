using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using Agentry.Planner.Planning;
using Agentry.Planner.StateMachines;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agentry.Planner;

public static class PlannerRegistration
{
    /// Run state and deadlines live in Redis when the connection string `redis` is set, in memory otherwise.
    public static IServiceCollection AddPlanner(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryLlm(configuration);
        services.AddOptions<PlannerOptions>().BindConfiguration(PlannerOptions.Section);
        if (RedisRegistration.HasRedis(configuration))
        {
            services.AddPlannerRedis(configuration);
            services.TryAddSingleton<IRunDeadlines, RedisRunDeadlines>();
        }
        else
        {
            services.TryAddSingleton<IRunDeadlines, InMemoryRunDeadlines>();
        }

        services.TryAddSingleton<AgentToolPlugins>();
        services.AddHostedService<DeadlineMonitor>();
        return services;
    }

    public static void AddPlannerConsumers(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        var saga = bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState>();
        if (RedisRegistration.HasRedis(configuration))
        {
            bus.AddPlannerRedis(configuration);
            saga.RedisRepository(sp => AgentRunPersistence.RedisOptions(sp.GetRequiredService<IOptions<PlannerRedisOptions>>().Value));
        }
        else
        {
            saga.InMemoryRepository();
        }

        bus.AddConsumer<PlanStepConsumer>();
    }

    // Both entry points need the connection and the options; registering them twice is harmless.
    private static void AddPlannerRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryRedis(configuration);
        services.AddOptions<PlannerRedisOptions>()
            .BindConfiguration(PlannerRedisOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }
}
