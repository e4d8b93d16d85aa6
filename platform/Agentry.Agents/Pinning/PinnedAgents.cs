using System.Collections.Concurrent;
using Agentry.Agents.Tools;

namespace Agentry.Agents.Pinning;

/// A run's agent as it was when the run started (or was last moved): looked up by name and the hash
/// the run pinned. The catalog's entry serves while its hash matches, which is every step of every
/// run until a definition changes, so the common path reads no store and allocates nothing. A run
/// pinned to another version is served from the definition store, parsed with the same loader and
/// cached by hash.
public sealed class PinnedAgents(AgentCatalog catalog, IAgentDefinitionStore store, ToolCatalog tools, ISet<string>? knownProviders = null)
{
    // Versions of definitions are few (one per edit that runs straddled); the bound only guards a
    // process that lives through very many edits.
    private const int MaxCached = 256;

    private readonly ConcurrentDictionary<string, AgentDefinition> _pinned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _kept = new(StringComparer.Ordinal);
    private readonly TimeSpan _keepAgainAfter = TimeSpan.FromHours(1);

    public AgentCatalog Catalog => catalog;

    /// The agent of a run: hash null (a message from a build that did not pin, or a run whose agent
    /// was built in code) means the catalog's current entry. Null when no such agent is known.
    /// Throws PinnedDefinitionException when the hash is neither current nor in the store.
    public ValueTask<AgentDefinition?> FindAsync(string name, string? hash, CancellationToken cancellationToken)
    {
        var current = catalog.Find(name);
        if (hash is null || current?.Hash == hash)
        {
            return ValueTask.FromResult(current);
        }

        return _pinned.TryGetValue(hash, out var pinned) && pinned.Name == name
            ? ValueTask.FromResult<AgentDefinition?>(pinned)
            : new ValueTask<AgentDefinition?>(LoadAsync(name, hash, cancellationToken));
    }

    /// As FindAsync, for a run that must have its agent: an unknown one is a PinnedDefinitionException too.
    public async ValueTask<AgentDefinition> GetAsync(string name, string? hash, CancellationToken cancellationToken) =>
        await FindAsync(name, hash, cancellationToken) ?? throw new PinnedDefinitionException(catalog.DescribeUnknown(name));

    /// Makes the definition readable by every service under its hash before a run carries it.
    /// Once an hour per hash and process at most: the store renews the retention on each keep.
    public async Task KeepAsync(AgentDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.Hash is not { } hash || definition.Text is not { } text)
        {
            return;
        }

        var now = Environment.TickCount64;
        if (_kept.TryGetValue(hash, out var at) && now - at < _keepAgainAfter.TotalMilliseconds)
        {
            return;
        }

        await store.KeepAsync(hash, text, cancellationToken);
        _kept[hash] = now;
    }

    /// The definition with its model or its cache setting replaced (DefinitionModels), kept in the store
    /// under its own hash. Throws AgentDefinitionException when it does not load (an empty name).
    public async Task<AgentDefinition> VariantAsync(AgentDefinition definition, string? model, bool? cache, CancellationToken cancellationToken)
    {
        var text = DefinitionModels.Variant(definition.Text ?? throw new PinnedDefinitionException($"Agent '{definition.Name}' was built in code: it has no definition text to change the model of."), model, cache, knownProviders);
        var changed = AgentDefinitionLoader.Parse($"variant/{definition.Name}.yaml", text, tools, knownProviders);
        await KeepAsync(changed, cancellationToken);
        return changed;
    }

    private async Task<AgentDefinition?> LoadAsync(string name, string hash, CancellationToken cancellationToken)
    {
        var text = await store.FindAsync(hash, cancellationToken)
            ?? throw new PinnedDefinitionException(
                $"The run's agent '{name}' is pinned to definition {AgentDefinitionHash.Abbreviate(hash)}, which is not the current one and is not in the definition store (expired, or the store was emptied). Start the run again, or move runs to the current definition before their pinned one expires.");
        AgentDefinition definition;
        try
        {
            definition = AgentDefinitionLoader.Parse($"pinned/{hash}/{name}.yaml", text, tools, knownProviders);
        }
        catch (AgentDefinitionException e)
        {
            throw new PinnedDefinitionException(
                $"The run's agent '{name}' is pinned to definition {AgentDefinitionHash.Abbreviate(hash)}, which no longer loads in this service: {e.Message} Move the run to the current definition (agentry move-definition), or cancel it.", e);
        }

        if (definition.Hash != hash)
        {
            throw new PinnedDefinitionException($"The definition store holds text under {AgentDefinitionHash.Abbreviate(hash)} whose hash is {AgentDefinitionHash.Abbreviate(definition.Hash)}: the store was written by something else.");
        }

        if (_pinned.Count >= MaxCached)
        {
            _pinned.Clear();
        }

        _pinned[hash] = definition;
        return definition;
    }
}

/// A run's pinned definition cannot be had: the message that needed it ends the run with this reason.
public sealed class PinnedDefinitionException(string message, Exception? inner = null) : Exception(message, inner);
