using Agentry.ServiceDefaults.Payloads;
using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using Agentry.Planner.Planning;
using Agentry.Planner.StateMachines;
using Agentry.Planner.Tenants;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using Agentry.Agents.Tools;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agentry.Planner;

public static class PlannerRegistration
{
    /// Run state, deadlines and tenants' running runs live in Redis when the connection string `redis` is set, in memory otherwise.
    public static IServiceCollection AddPlanner(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryLlm(configuration);
        services.AddAgentryPayloads(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<PlannerOptions>().BindConfiguration(PlannerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TenantOptions>().BindConfiguration(TenantOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantOptions>, TenantOptionsValidation>());
        if (RedisRegistration.HasRedis(configuration))
        {
            services.AddPlannerRedis(configuration);
            services.TryAddSingleton<IRunDeadlines, RedisRunDeadlines>();
            services.TryAddSingleton<ITenantRunSlots, RedisTenantRunSlots>();
        }
        else
        {
            services.TryAddSingleton<IRunDeadlines, InMemoryRunDeadlines>();
            services.TryAddSingleton<ITenantRunSlots, InMemoryTenantRunSlots>();
        }

        services.TryAddSingleton<AgentToolPlugins>();
        services.TryAddSingleton<PlanAndExecutePlanner>();
        // Shared with the ToolExecutor's registry in one process: the schemas are compiled once.
        services.TryAddSingleton<ToolArgumentsValidator>();
        services.TryAddSingleton<ToolCallReplies>();
        services.AddHostedService<DeadlineMonitor>();
        services.AddPinnedAgents();
        return services;
    }

    public static void AddPlannerConsumers(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        var saga = bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState, AgentRunSagaDefinition>();
        if (RedisRegistration.HasRedis(configuration))
        {
            bus.AddPlannerRedis(configuration);
            saga.RedisRepository(sp => AgentRunPersistence.RedisOptions(
                sp.GetRequiredService<IOptions<PlannerRedisOptions>>().Value,
                sp.GetRequiredService<IOptions<SchemaOptions>>().Value,
                sp.GetRequiredService<IOptions<PayloadOptions>>().Value.MaxStateBytes));
        }
        else
        {
            saga.InMemoryRepository();
        }

        bus.AddConsumer<PlanStepConsumer>();
        bus.AddConsumer<GetRunDefinitionConsumer>();
    }

    // Both entry points need the connection and the options; registering them twice is harmless.
    private static void AddPlannerRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryRedis(configuration);
        services.AddOptions<PlannerRedisOptions>()
            .BindConfiguration(PlannerRedisOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<SchemaOptions>()
            .BindConfiguration(SchemaOptions.Section)
            .Validate(
                schema => AgentRunStateVersions.Formats.ContainsKey(schema.Write),
                $"{SchemaOptions.Section}:Write must be a run state version this build writes: {string.Join(" or ", AgentRunStateVersions.Formats.Keys.Order())}.")
            .ValidateOnStart();
    }
}
