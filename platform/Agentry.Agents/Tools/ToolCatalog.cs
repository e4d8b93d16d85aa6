using System.Collections.Frozen;
using Microsoft.Extensions.Configuration;

namespace Agentry.Agents.Tools;

/// Every tool an agent may name, by name.
public sealed class ToolCatalog
{
    private readonly FrozenDictionary<string, ToolDescriptor> _tools;

    private readonly FrozenDictionary<string, string> _withheld;

    /// withheld: tools a pack does not offer on this host, by name, with the reason (an agent that
    /// lists one loads without it).
    public ToolCatalog(IEnumerable<ToolDescriptor> tools, IReadOnlyDictionary<string, string>? withheld = null)
    {
        _withheld = (withheld ?? new Dictionary<string, string>()).ToFrozenDictionary(StringComparer.Ordinal);
        var list = tools.ToList();
        var twice = list.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            throw new InvalidOperationException($"These tool names are declared by more than one tool: {string.Join(", ", twice)}.");
        }

        _tools = list.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// The tools these packs offer under this configuration: every process of a deployment reads
    /// the same settings and registers the same packs, so the Planner, the agent loader and the
    /// ToolExecutor agree on the list.
    public static ToolCatalog Of(IEnumerable<ToolPack> packs, IConfiguration? configuration) =>
        new(packs.SelectMany(p => p.Describe(configuration)),
            packs.SelectMany(p => p.Withheld(configuration)).ToDictionary(w => w.Tool, w => w.Reason, StringComparer.Ordinal));

    /// This catalog plus other tools (an MCP server's), which must not reuse a catalogued name.
    public ToolCatalog With(IEnumerable<ToolDescriptor> more)
    {
        var added = more.ToList();
        var taken = added.Where(t => Contains(t.Name)).Select(t => t.Name).ToList();
        return taken.Count > 0
            ? throw new InvalidOperationException($"These tool names are already catalogued: {string.Join(", ", taken)}.")
            : added.Count == 0 ? this : new([.. _tools.Values, .. added], _withheld);
    }

    public IEnumerable<string> Names => _tools.Keys.Order(StringComparer.Ordinal);

    /// Why this tool is not offered on this host, or null.
    public string? WhyWithheld(string name) => _withheld.GetValueOrDefault(name);

    public bool Contains(string name) => _tools.ContainsKey(name);

    public ToolDescriptor? Find(string name) => _tools.GetValueOrDefault(name);

    public ToolDescriptor Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException($"No tool named '{name}' is registered. Known tools: {string.Join(", ", Names)}.");
}
