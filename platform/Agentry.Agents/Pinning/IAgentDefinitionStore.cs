using System.Collections.Concurrent;

namespace Agentry.Agents.Pinning;

/// The text of every definition a run pinned, once per hash, where every service of the deployment
/// reads it: Redis when distributed, this process's memory when embedded (docs/decisions/0028).
public interface IAgentDefinitionStore
{
    /// Keeps the text under its hash; keeping it again renews its retention.
    Task KeepAsync(string hash, string text, CancellationToken cancellationToken);

    /// The text kept under the hash, or null.
    Task<string?> FindAsync(string hash, CancellationToken cancellationToken);
}

/// Embedded mode: the saga is in this process's memory too, so no run outlives what this store keeps.
public sealed class InMemoryAgentDefinitionStore : IAgentDefinitionStore
{
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);

    public Task KeepAsync(string hash, string text, CancellationToken cancellationToken)
    {
        _texts[hash] = text;
        return Task.CompletedTask;
    }

    public Task<string?> FindAsync(string hash, CancellationToken cancellationToken) =>
        Task.FromResult(_texts.GetValueOrDefault(hash));
}
