using Agentry.Agents;
using Agentry.Agents.Tools;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tools;

/// The tools that ask the Memory service over the bus: remember (long-term memory) and
/// search_knowledge (the knowledge base). The ToolExecutor owns no store of its own.
public static class MemoryTools
{
    public static ToolPack Pack { get; } = ToolPack.Of([RememberTool.Descriptor, SearchKnowledgeTool.Descriptor], (services, _) =>
    {
        services.AddSingleton<ITool, RememberTool>();
        services.AddSingleton<ITool, SearchKnowledgeTool>();
    });

    // The bus and the agents are resolved per call rather than injected: the tool registry is built
    // and checked where there is no bus and no agent catalog (tool tests, a registry check).
    internal static AgentDefinition? AgentOf(IServiceProvider services, ToolInvocation invocation) =>
        services.GetRequiredService<AgentCatalog>().Find(invocation.Agent);

    internal static async Task<TAnswer> AskAsync<TRequest, TAnswer>(IServiceProvider services, TRequest request, TimeSpan timeout, CancellationToken cancellationToken)
        where TRequest : class
        where TAnswer : class
    {
        var client = services.GetRequiredService<IClientFactory>().CreateRequestClient<TRequest>(RequestTimeout.After(s: (int)timeout.TotalSeconds));
        return (await client.GetResponse<TAnswer>(request, cancellationToken)).Message;
    }
}
