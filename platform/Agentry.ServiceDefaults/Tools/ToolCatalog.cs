using Microsoft.Extensions.Configuration;
using System.Collections.Frozen;

namespace Agentry.ServiceDefaults.Tools;

/// Every tool an agent may name, by name.
public sealed class ToolCatalog
{
    private readonly FrozenDictionary<string, ToolDescriptor> _tools;

    public ToolCatalog(IEnumerable<ToolDescriptor> tools)
    {
        _tools = tools.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public static ToolCatalog BuiltIn { get; } = new([.. BuiltInTools.All, .. SampleTools.Orders]);

    /// The setting that names the web search provider; web_search exists only when it is set.
    public const string WebSearchProviderKey = "Tools:WebSearch:Provider";

    /// The built-in tools this configuration offers: every process of a deployment reads the same
    /// settings, so the Planner, the agent loader and the ToolExecutor agree on the list.
    public static ToolCatalog For(IConfiguration? configuration) =>
        OffersWebSearch(configuration) ? new([.. BuiltInTools.All, .. SampleTools.Orders, BuiltInTools.WebSearch]) : BuiltIn;

    /// Whether web_search is catalogued; the ToolExecutor registers its implementation on the same test.
    public static bool OffersWebSearch(IConfiguration? configuration) =>
        !string.IsNullOrWhiteSpace(configuration?[WebSearchProviderKey]);

    /// This catalog plus other tools (an MCP server's), which must not reuse a catalogued name.
    public ToolCatalog With(IEnumerable<ToolDescriptor> more)
    {
        var added = more.ToList();
        var taken = added.Where(t => Contains(t.Name)).Select(t => t.Name).ToList();
        return taken.Count > 0
            ? throw new InvalidOperationException($"These tool names are already catalogued: {string.Join(", ", taken)}.")
            : added.Count == 0 ? this : new([.. _tools.Values, .. added]);
    }

    public IEnumerable<string> Names => _tools.Keys.Order(StringComparer.Ordinal);

    public bool Contains(string name) => _tools.ContainsKey(name);

    public ToolDescriptor? Find(string name) => _tools.GetValueOrDefault(name);

    public ToolDescriptor Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException($"No tool named '{name}' is registered. Known tools: {string.Join(", ", Names)}.");
}
