using System.Collections.Frozen;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.ToolExecutor;

/// Binds each catalogued tool to its implementation and its compiled argument schema (shared
/// with the Planner through ToolArgumentsValidator).
/// A catalogued tool without an implementation (or the reverse) stops the service at start.
public sealed class ToolRegistry
{
    private readonly FrozenDictionary<string, ITool> _tools;
    private readonly ToolArgumentsValidator _arguments;
    private readonly ToolCatalog _catalog;

    public ToolRegistry(ToolCatalog catalog, IEnumerable<ITool> implementations)
        : this(catalog, implementations, new ToolArgumentsValidator(catalog))
    {
    }

    public ToolRegistry(ToolCatalog catalog, IEnumerable<ITool> implementations, ToolArgumentsValidator arguments)
    {
        var byName = implementations.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var missing = catalog.Names.Where(n => !byName.ContainsKey(n)).ToList();
        var extra = byName.Keys.Where(n => !catalog.Contains(n)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new InvalidOperationException(
                $"The tool catalog and the tool implementations disagree. Without an implementation: [{string.Join(", ", missing)}]; not in the catalog: [{string.Join(", ", extra)}].");
        }

        var mismatched = byName.Values
            .Where(t => t is IArgumentDependentSideEffects != catalog.Get(t.Name).SideEffectsDependOnArguments)
            .Select(t => t.Name)
            .ToList();
        if (mismatched.Count > 0)
        {
            // The loader decides from the descriptor whether a read_only policy can hold; the
            // implementation decides per call: they must agree.
            throw new InvalidOperationException(
                $"The tools [{string.Join(", ", mismatched)}] disagree with their descriptors on whether their side effects depend on the arguments (IArgumentDependentSideEffects against ToolDescriptor.SideEffectsDependOnArguments).");
        }

        _tools = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _catalog = catalog;
        _arguments = arguments;
    }

    public ITool? Find(string name) => _tools.GetValueOrDefault(name);

    public ToolDescriptor? Describe(string name) => _catalog.Find(name);

    /// Whether this call may change something outside the run, which decides whether the ledger
    /// may run it again after a crash: the descriptor says, unless the tool decides per call.
    public bool HasSideEffects(string tool, JsonElement arguments) =>
        Find(tool) is IArgumentDependentSideEffects perCall
            ? perCall.HasSideEffects(arguments)
            : _catalog.Find(tool)?.SideEffects ?? false;

    /// The problems with the arguments, in words; empty when they are valid.
    public IReadOnlyList<string> Validate(string tool, JsonElement arguments) => _arguments.Validate(tool, arguments);
}
