using System.Collections.Frozen;
using Agentry.Agents.Tools;

namespace Agentry.Agents;

/// Every agent definition of one folder, loaded and validated together at start, so a service
/// refuses to start with a bad definition rather than failing on the first run that uses it.
public sealed class AgentCatalog
{
    private readonly FrozenDictionary<string, AgentDefinition> _agents;

    public AgentCatalog(IEnumerable<AgentDefinition> agents)
    {
        _agents = agents.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
        if (SubAgentProblems(_agents) is { Count: > 0 } problems)
        {
            throw new AgentCatalogException("the agent catalog", problems);
        }
    }

    public IReadOnlyCollection<AgentDefinition> All => _agents.Values.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();

    public AgentDefinition? Find(string name) => _agents.GetValueOrDefault(name);

    public string DescribeUnknown(string name) =>
        _agents.Count == 0
            ? $"Unknown agent '{name}': no agents are defined."
            : $"Unknown agent '{name}'. Known agents: {string.Join(", ", _agents.Keys.Order(StringComparer.Ordinal))}.";

    public static AgentCatalog LoadDirectory(string directory, ToolCatalog tools, ISet<string>? knownProviders = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(
                $"No agents folder at {Path.GetFullPath(directory)}{(Path.IsPathRooted(directory) ? "" : $" (nor in any folder above {Environment.CurrentDirectory})")}. Point Agents:Path (environment Agents__Path, or --agents on the CLI) at the folder that holds your agents/*.yaml.");
        }

        var agents = new List<AgentDefinition>();
        var problems = new List<AgentDefinitionException>();
        var files = Directory.EnumerateFiles(directory, "*.yaml")
            .Concat(Directory.EnumerateFiles(directory, "*.yml"))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try
            {
                var agent = AgentDefinitionLoader.LoadFile(file, tools, knownProviders);
                if (agents.Any(a => a.Name == agent.Name))
                {
                    problems.Add(new AgentDefinitionException(file, 1, 1, $"agent '{agent.Name}' is defined twice (also in {agents.First(a => a.Name == agent.Name).SourceFile})."));
                    continue;
                }

                agents.Add(agent);
            }
            catch (AgentDefinitionException e)
            {
                problems.Add(e);
            }
        }

        problems.AddRange(SubAgentProblems(agents.ToDictionary(a => a.Name, StringComparer.Ordinal)));
        return problems.Count > 0 ? throw new AgentCatalogException(directory, problems) : new AgentCatalog(agents);
    }

    /// Every `agent:NAME` must name a defined agent, and no agent may reach itself through its
    /// sub-agents: a cycle would only end at the depth limit, so it is refused at load.
    private static List<AgentDefinitionException> SubAgentProblems(IReadOnlyDictionary<string, AgentDefinition> agents)
    {
        var problems = new List<AgentDefinitionException>();
        foreach (var agent in agents.Values.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            foreach (var tool in agent.Tools)
            {
                if (!SubAgentTools.TryGetAgent(tool.Name, out var child))
                {
                    continue;
                }

                if (!agents.ContainsKey(child))
                {
                    problems.Add(new AgentDefinitionException(agent.SourceFile, tool.Line, tool.Column,
                        $"unknown agent '{child}' in {tool.Name}. Defined agents: {string.Join(", ", agents.Keys.Order(StringComparer.Ordinal))}."));
                }
                else if (PathBack(agents, child, agent.Name, []) is { } path)
                {
                    problems.Add(new AgentDefinitionException(agent.SourceFile, tool.Line, tool.Column,
                        $"{tool.Name} makes a cycle of sub-agents ({string.Join(" -> ", [agent.Name, .. path])}): an agent may not call itself, directly or through other agents."));
                }
            }
        }

        return problems;
    }

    /// The chain of sub-agents from `from` to `target` (both included), or null when there is none.
    private static List<string>? PathBack(IReadOnlyDictionary<string, AgentDefinition> agents, string from, string target, HashSet<string> seen)
    {
        if (from == target)
        {
            return [from];
        }

        if (!seen.Add(from) || !agents.TryGetValue(from, out var agent))
        {
            return null;
        }

        foreach (var child in agent.SubAgents)
        {
            if (PathBack(agents, child, target, seen) is { } rest)
            {
                return [from, .. rest];
            }
        }

        return null;
    }
}
