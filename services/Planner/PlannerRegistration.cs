using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Planning;
using Agentry.Planner.StateMachines;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Planner;

public static class PlannerRegistration
{
    public static IServiceCollection AddPlanner(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryLlm(configuration);
        services.AddOptions<PlannerOptions>().BindConfiguration(PlannerOptions.Section);
        services.TryAddSingleton<IRunDeadlines, InMemoryRunDeadlines>();
        services.TryAddSingleton<AgentToolPlugins>();
        services.AddHostedService<DeadlineMonitor>();
        return services;
    }

    public static void AddPlannerConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddSagaStateMachine<AgentRunStateMachine, AgentRunState>().InMemoryRepository();
        bus.AddConsumer<PlanStepConsumer>();
    }
}
