using Agentry.Agents;
using Agentry.Evaluator;
using Agentry.Gateway;
using Agentry.Memory;
using Agentry.Notifier;
using Agentry.Planner;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.ToolExecutor;
using Agentry.Tools;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Cli;

/// Every service in one process: the same registrations the standalone services make, on one bus.
public static class EmbeddedAgentry
{
    public static IServiceCollection AddEmbeddedAgentry(
        this IServiceCollection services,
        IConfiguration configuration,
        params Action<IBusRegistrationConfigurator>[] extraStages)
    {
        services.AddAgentryCore(configuration, "agentry");
        services.AddAgentTools(configuration);
        services.AddPlanner(configuration);
        services.AddToolExecutor(configuration);
        services.AddMemory(configuration);
        services.AddEvaluator(configuration);
        services.AddNotifier(configuration);
        services.AddAgentryBus(configuration, [.. Stages(configuration), .. extraStages]);
        return services;
    }

    /// The built-in tools and the samples' tool packs, which the shipped agents/ folder names.
    public static IServiceCollection AddAgentTools(this IServiceCollection services, IConfiguration configuration) =>
        services.AddAgentryTools(configuration).AddSampleTools(configuration);

    public static Action<IBusRegistrationConfigurator>[] Stages(IConfiguration configuration) =>
    [
        bus => bus.AddGatewayClients(),
        bus => bus.AddPlannerConsumers(configuration),
        bus => bus.AddToolExecutorConsumers(),
        bus => bus.AddMemoryConsumers(),
        bus => bus.AddEvaluatorConsumers(),
        bus => bus.AddNotifierConsumers(),
    ];
}
