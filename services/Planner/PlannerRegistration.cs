using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using Agentry.Planner.Planning;
using Agentry.Planner.StateMachines;
using Agentry.ServiceDefaults;
using Agentry.Agents.Tools;
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
        services.AddOptions<PlannerOptions>().BindConfiguration(PlannerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
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
        services.TryAddSingleton<PlanAndExecutePlanner>();
        // Shared with the ToolExecutor's registry in one process: the schemas are compiled once.
        services.TryAddSingleton<ToolArgumentsValidator>();
        services.TryAddSingleton<ToolCallReplies>();
        services.AddHostedService<DeadlineMonitor>();
        return services;
    }

    public static void AddPlannerConsumers(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        if (RedisRegistration.HasRedis(configuration))
        {
            bus.AddPlannerRedis(configuration);
            bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState>(OneMessagePerRunAtATime)
                .RedisRepository(sp => AgentRunPersistence.RedisOptions(sp.GetRequiredService<IOptions<PlannerRedisOptions>>().Value));
        }
        else
        {
            // The in-memory repository locks each instance while a message is applied.
            bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState>().InMemoryRepository();
        }

        bus.AddConsumer<PlanStepConsumer>();
    }

    /// Within one Planner, messages of one run wait for each other (partitioned by run id) instead
    /// of racing to a version conflict in Redis; runs still proceed in parallel. Conflicts remain
    /// possible only between Planner processes, where the endpoint's retry resolves them.
    private static void OneMessagePerRunAtATime(IRegistrationContext context, ISagaConfigurator<AgentRunState> saga)
    {
        var partitioner = saga.CreatePartitioner(32);
        // Every event of AgentRunStateMachine: one missing here only loses the in-process ordering.
        saga.Message<GoalReceived>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<ContextLoaded>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<StepProposed>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<ToolResult>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<GoalEvaluated>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<RunDeadlineReached>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<CancelRun>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<RunFaulted>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<ApprovalDecided>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
        saga.Message<ApprovalDeadlineReached>(m => m.UsePartitioner(partitioner, c => c.Message.RunId));
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
