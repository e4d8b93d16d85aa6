using System.Collections.Frozen;
using Agentry.ServiceDefaults.Tools;

namespace Agentry.ServiceDefaults.Agents;

/// Every agent definition of one folder, loaded and validated together at start, so a service
/// refuses to start with a bad definition rather than failing on the first run that uses it.
public sealed class AgentCatalog
{
    private readonly FrozenDictionary<string, AgentDefinition> _agents;

    public AgentCatalog(IEnumerable<AgentDefinition> agents)
    {
        _agents = agents.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
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

        var known = tools.Names.ToHashSet(StringComparer.Ordinal);
        var agents = new List<AgentDefinition>();
        var problems = new List<AgentDefinitionException>();
        var files = Directory.EnumerateFiles(directory, "*.yaml")
            .Concat(Directory.EnumerateFiles(directory, "*.yml"))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try
            {
                var agent = AgentDefinitionLoader.LoadFile(file, known, knownProviders);
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

        return problems.Count > 0 ? throw new AgentCatalogException(directory, problems) : new AgentCatalog(agents);
    }
}
