using Agentry.Agents;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tools;

/// The tool packs that ship with Agentry, one per family folder. Every service registers them
/// (AddAgentryTools), so that every process describes the same tools.
public static class BuiltInTools
{
    public static IReadOnlyList<ToolPack> Packs { get; } =
        [CalculatorTool.Pack, CurrentTimeTool.Pack, HttpTools.Pack, JavaScriptTool.Pack, SqlQueryTool.Pack, FileTools.Pack, MemoryTools.Pack, WebSearchTool.Pack, SandboxTools.Pack];

    /// The built-in tools offered without any configuration.
    public static IReadOnlyList<ToolDescriptor> All { get; } = [.. Packs.SelectMany(p => p.Describe(null))];

    /// The built-in packs, the agent definitions and the catalog they are checked against, in any
    /// process. A host adds packs of its own (AddToolPack) before or after this call.
    public static IServiceCollection AddAgentryTools(this IServiceCollection services, IConfiguration configuration)
    {
        foreach (var pack in Packs)
        {
            services.AddToolPack(pack, configuration);
        }

        return services.AddAgentModel(configuration);
    }
}
