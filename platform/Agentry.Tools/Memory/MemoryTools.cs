using Agentry.Agents.Tools;
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
}
