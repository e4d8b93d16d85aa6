using Agentry.Agents.Mcp;
using Agentry.Agents.Pinning;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Agents;

public static class AgentModelRegistration
{
    /// Adds a pack's tools to this process's catalog and its implementations to the container. A
    /// pack registered twice counts once.
    public static IServiceCollection AddToolPack(this IServiceCollection services, ToolPack pack, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(ToolPack) && ReferenceEquals(d.ImplementationInstance, pack)))
        {
            return services;
        }

        services.AddSingleton(pack);
        pack.AddImplementations(services, configuration);
        return services;
    }

    /// The tool catalog (the registered packs plus the MCP servers' tools, listed at start in every
    /// process alike), the argument schemas compiled once, and the agent definitions, loaded and
    /// checked against the catalog when the host starts so that a bad file stops the service.
    public static IServiceCollection AddAgentModel(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp => McpTools.ListAtStart(configuration, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(sp => ToolCatalog.Of(sp.GetServices<ToolPack>(), configuration).With(sp.GetRequiredService<McpTools>().Descriptors));
        services.TryAddSingleton<ToolArgumentsValidator>();
        services.AddOptions<GoalBounds>()
            .BindConfiguration(GoalBounds.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<AgentsOptions>()
            .BindConfiguration(AgentsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(sp => AgentCatalog.LoadDirectory(
            sp.GetRequiredService<IOptions<AgentsOptions>>().Value.ResolvePath(),
            sp.GetRequiredService<ToolCatalog>(),
            sp.GetService<IConfiguration>() is { } settings ? ModelProviders.Names(settings) : null));
        services.AddPinnedAgents();
        if (!services.Any(d => d.ImplementationType == typeof(AgentCatalogAtStart)))
        {
            services.AddHostedService<AgentCatalogAtStart>();
        }

        return services;
    }

    /// The runs' pinned definitions (PinnedAgents) over the catalog and tool catalog registered.
    /// The store is Redis when the deployment has it (every service then registers the connection),
    /// so the services of a distributed deployment read the same pinned definitions.
    public static IServiceCollection AddPinnedAgents(this IServiceCollection services)
    {
        services.AddOptions<AgentsOptions>().BindConfiguration(AgentsOptions.Section);
        services.TryAddSingleton<IAgentDefinitionStore>(sp => sp.GetService<IConnectionMultiplexer>() is { } redis
            ? new RedisAgentDefinitionStore(redis, sp.GetRequiredService<IOptions<AgentsOptions>>().Value.PinnedDefinitionRetention, sp.GetRequiredService<IOptions<AgentsOptions>>().Value.PinnedDefinitionKeyPrefix)
            : new InMemoryAgentDefinitionStore());
        services.TryAddSingleton(sp => new PinnedAgents(
            sp.GetRequiredService<AgentCatalog>(),
            sp.GetRequiredService<IAgentDefinitionStore>(),
            sp.GetRequiredService<ToolCatalog>(),
            sp.GetService<IConfiguration>() is { } settings ? ModelProviders.Names(settings) : null));
        return services;
    }

    private sealed class AgentCatalogAtStart(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<AgentCatalog>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
