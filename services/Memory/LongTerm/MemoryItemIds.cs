using System.Security.Cryptography;
using System.Text;
using Agentry.Contracts;

namespace Agentry.Memory;

/// Item ids derived from what produced the item, so that a redelivered message or a repeated end
/// of a run writes the same id again, which the store ignores.
public static class MemoryItemIds
{
    public static Guid For(Guid runId, string source)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{runId:N}\n{source}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    public static MemoryKind KindOf(MemoryItemKind kind) => kind == MemoryItemKind.Preference ? MemoryKind.Preference : MemoryKind.Fact;

    public static MemoryItemView View(MemoryItem item) =>
        new(item.Id, item.Text, item.Kind == MemoryKind.Preference ? MemoryItemKind.Preference : MemoryItemKind.Fact, item.SourceRunId, item.CreatedAt);
}
