using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.ServiceDefaults.Tools;
using Agentry.ToolExecutor.Tools;
using Json.Schema;

namespace Agentry.ToolExecutor;

/// Binds each catalogued tool to its implementation and its compiled argument schema.
/// A catalogued tool without an implementation (or the reverse) stops the service at start.
public sealed class ToolRegistry
{
    private static readonly EvaluationOptions Validation = new()
    {
        OutputFormat = OutputFormat.List,
        RequireFormatValidation = true,
    };

    private readonly FrozenDictionary<string, (ITool Tool, JsonSchema Schema)> _tools;

    public ToolRegistry(ToolCatalog catalog, IEnumerable<ITool> implementations)
    {
        var byName = implementations.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var missing = catalog.Names.Where(n => !byName.ContainsKey(n)).ToList();
        var extra = byName.Keys.Where(n => !catalog.Contains(n)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new InvalidOperationException(
                $"The tool catalog and the tool implementations disagree. Without an implementation: [{string.Join(", ", missing)}]; not in the catalog: [{string.Join(", ", extra)}].");
        }

        _tools = byName.ToFrozenDictionary(
            pair => pair.Key,
            pair => (pair.Value, JsonSchema.FromText(catalog.Get(pair.Key).ArgumentsSchema)),
            StringComparer.Ordinal);
    }

    public ITool? Find(string name) => _tools.TryGetValue(name, out var entry) ? entry.Tool : null;

    /// The problems with the arguments, in words; empty when they are valid.
    public IReadOnlyList<string> Validate(string tool, JsonElement arguments)
    {
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return [$"the arguments must be a JSON object, not {Describe(arguments)}"];
        }

        var results = _tools[tool].Schema.Evaluate(JsonNode.Parse(arguments.GetRawText()), Validation);
        if (results.IsValid)
        {
            return [];
        }

        return results.Details
            .Where(d => d.HasErrors)
            .SelectMany(d => d.Errors!.Select(e => $"{Location(d.InstanceLocation.ToString())}: {e.Value}"))
            .Distinct()
            .ToList();
    }

    private static string Location(string pointer) => pointer is "" or "#" ? "arguments" : pointer.TrimStart('#');

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string {element.GetRawText()}",
        JsonValueKind.Undefined => "nothing",
        var kind => $"a {kind.ToString().ToLowerInvariant()}",
    };
}
