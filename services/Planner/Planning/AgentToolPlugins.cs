using System.Collections.Concurrent;
using Agentry.Llm;
using Agentry.ServiceDefaults.Agents;
using Agentry.ServiceDefaults.Tools;
using Microsoft.SemanticKernel;

namespace Agentry.Planner.Planning;

/// The functions offered for each agent, built once per agent from its tool list.
public sealed class AgentToolPlugins(ToolCatalog tools)
{
    private readonly ConcurrentDictionary<string, KernelPlugin> _byAgent = new(StringComparer.Ordinal);

    public KernelPlugin For(AgentDefinition agent) =>
        _byAgent.GetOrAdd(agent.Name, _ => ToolFunctions.CreatePlugin(agent.Tools.Select(t => tools.Get(t.Name))));
}
