using Agentry.Agents;
using Agentry.ToolExecutor.SubAgents;
using Agentry.Tools;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Payloads;
using Agentry.Agents.Tools;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Agentry.ToolExecutor;

public static class ToolExecutorRegistration
{
    /// The call ledger lives in Redis when the connection string `redis` is set, so that a step
    /// redelivered to another ToolExecutor finds what the first one did; in memory otherwise.
    public static IServiceCollection AddToolExecutor(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ToolExecutorOptions>().BindConfiguration(ToolExecutorOptions.Section);
        services.AddAgentryPayloads(configuration);
        services.AddSingleton<ToolCallGuard>();
        services.AddSandboxChecks();
        services.AddSingleton<McpSessions>();
        services.AddSingleton(sp => new ToolRegistry(sp.GetRequiredService<ToolCatalog>(), [.. sp.GetServices<ITool>(), .. McpTool.All(sp)], sp.GetRequiredService<ToolArgumentsValidator>()));
        services.AddOptions<SubAgentOptions>().BindConfiguration(SubAgentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<SubAgentCalls>();
        if (RedisRegistration.HasRedis(configuration))
        {
            services.TryAddSingleton<ISubAgentRuns, RedisSubAgentRuns>();
            services.AddAgentryRedis(configuration);
            services.AddOptions<ToolLedgerOptions>().BindConfiguration(ToolLedgerOptions.Section);
            services.TryAddSingleton<RedisToolCallLedger>();
            services.TryAddSingleton<IToolCallLedger>(sp => sp.GetRequiredService<RedisToolCallLedger>());
            services.AddHostedService<ToolExecutorLiveness>();
        }
        else
        {
            services.TryAddSingleton<IToolCallLedger, InMemoryToolCallLedger>();
            services.TryAddSingleton<ISubAgentRuns, InMemorySubAgentRuns>();
        }
        services.ResolveAtStart<ToolRegistry>();
        services.AddPinnedAgents();
        return services;
    }

    public static void AddToolExecutorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ExecuteStepConsumer, ExecuteStepConsumerDefinition>();
        // Named apart from the Evaluator's RunEndedConsumer, which the formatter would also call
        // "run-ended": on one queue the two services would compete for each run's end and each
        // forget only some runs.
        bus.AddConsumer<RunEndedConsumer>().Endpoint(endpoint => endpoint.Name = "tool-executor-run-ended");
        bus.AddConsumer<SubAgentRunEndedConsumer>().Endpoint(endpoint => endpoint.Name = "tool-executor-sub-agents");
    }
}
