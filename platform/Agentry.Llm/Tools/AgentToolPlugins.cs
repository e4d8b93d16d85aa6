using System.Collections.Concurrent;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;

namespace Agentry.Llm;

/// The functions offered for each agent, built once per agent from its tool list.
public sealed class AgentToolPlugins(ToolCatalog tools, AgentCatalog agents)
{
    private readonly ConcurrentDictionary<string, KernelPlugin> _byAgent = new(StringComparer.Ordinal);

    public KernelPlugin For(AgentDefinition agent) =>
        _byAgent.GetOrAdd(agent.Name, _ => ToolFunctions.CreatePlugin(agent.Tools.Select(t => Describe(t.Name))));

    // A sub-agent is described by its own definition; the catalog checked at load that it exists.
    private ToolDescriptor Describe(string tool) =>
        SubAgentTools.TryGetAgent(tool, out var name)
            ? SubAgentTools.Descriptor(name, agents.Find(name)?.Description ?? "")
            : tools.Get(tool);
}
