using System.Collections.Frozen;
using System.Text.Json;
using Agentry.Agents.Json;
using Json.Schema;

namespace Agentry.Agents.Tools;

/// Every catalogued tool's argument schema, compiled once. The Planner checks the model's proposed
/// calls with it (and re-asks), the ToolExecutor checks them again before a tool runs, because a
/// step can also come from outside the Planner.
public sealed class ToolArgumentsValidator(ToolCatalog catalog)
{
    private readonly FrozenDictionary<string, JsonSchema> _schemas = catalog.Names.ToFrozenDictionary(
        name => name,
        name => JsonSchema.FromText(catalog.Get(name).ArgumentsSchema),
        StringComparer.Ordinal);

    // Every sub-agent tool takes the same arguments: the sub-goal.
    private static readonly JsonSchema SubAgentSchema = JsonSchema.FromText(SubAgentTools.ArgumentsSchema);

    public bool Knows(string tool) => _schemas.ContainsKey(tool) || SubAgentTools.IsSubAgent(tool);

    /// The problems with the arguments, in words; empty when they are valid.
    public IReadOnlyList<string> Validate(string tool, JsonElement arguments)
    {
        var schema = _schemas.TryGetValue(tool, out var s)
            ? s
            : SubAgentTools.IsSubAgent(tool)
            ? SubAgentSchema
            : throw new KeyNotFoundException($"No tool named '{tool}' is registered. Known tools: {string.Join(", ", catalog.Names)}.");
        return JsonSchemaCheck.Problems(schema, arguments, "arguments");
    }
}
