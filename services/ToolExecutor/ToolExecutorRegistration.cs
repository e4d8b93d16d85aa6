using Agentry.ToolExecutor.SubAgents;
using Agentry.ToolExecutor.Tools;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Tools;
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
        services.AddOptions<JavaScriptToolOptions>().BindConfiguration(JavaScriptToolOptions.Section);
        services.AddOptions<SqlQueryToolOptions>().BindConfiguration(SqlQueryToolOptions.Section);
        services.AddOptions<FileToolOptions>().BindConfiguration(FileToolOptions.Section);
        services.AddOptions<OrderDeskOptions>().BindConfiguration(OrderDeskOptions.Section);
        services.TryAddSingleton<OrderDesk>();
        services.TryAddSingleton<IHostResolver, DnsHostResolver>();
        foreach (var (tool, section) in new[]
        {
            (BuiltInTools.HttpGet.Name, HttpGetTool.Section),
            (BuiltInTools.HttpPost.Name, HttpPostTool.Section),
            (BuiltInTools.HttpRequest.Name, HttpRequestTool.Section),
        })
        {
            services.AddOptions<HttpToolOptions>(tool).BindConfiguration(section);
            services.AddHttpClient(HttpTools.ClientFor(tool)).ConfigurePrimaryHttpMessageHandler(sp => AddressGuard.CreateHandler(
                sp.GetRequiredService<IHostResolver>(),
                () => sp.GetRequiredService<IOptionsMonitor<HttpToolOptions>>().Get(tool)));
        }

        services.AddSingleton<ToolCallGuard>();
        services.AddSingleton<RunWorkspace>();
        services.AddSingleton<ITool, CalculatorTool>();
        services.AddSingleton<ITool, CurrentTimeTool>();
        services.AddSingleton<ITool, HttpGetTool>();
        services.AddSingleton<ITool, HttpPostTool>();
        services.AddSingleton<ITool, HttpRequestTool>();
        services.AddSingleton<ITool, JavaScriptTool>();
        services.AddSingleton<ITool, SqlQueryTool>();
        services.AddSingleton<ITool, ReadFileTool>();
        services.AddSingleton<ITool, WriteFileTool>();
        services.AddSingleton<ITool, RememberTool>();
        services.AddSingleton<ITool, LookupOrderTool>();
        services.AddSingleton<ITool, RefundOrderTool>();
        services.AddSingleton<ITool, SearchKnowledgeTool>();
        if (ToolCatalog.OffersWebSearch(configuration))
        {
            services.AddSingleton<ITool, WebSearchTool>();
        }

        services.AddSingleton<McpSessions>();
        // Shared with the Planner in one process: the schemas are compiled once.
        services.TryAddSingleton<ToolArgumentsValidator>();
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
