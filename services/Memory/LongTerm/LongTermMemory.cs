using System.Security.Cryptography;
using System.Text;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

/// The form in which two memories count as the same: case, spacing and closing punctuation aside.
public static class MemoryText
{
    public static string Normalize(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .TrimEnd('.', '!', '?', ';', ',', ' ')
            .ToLowerInvariant();
}

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

/// The remember tool's request: the item is kept for the run's user, under an id made of the run
/// and the call, so the ToolExecutor's retries and the broker's redeliveries add it once.
public sealed class RememberMemoryConsumer(ITranscriptStore transcripts, IMemoryItemStore items, TimeProvider clock) : IConsumer<RememberMemory>
{
    public async Task Consume(ConsumeContext<RememberMemory> context)
    {
        var request = context.Message;
        var user = request.UserId;
        if (string.IsNullOrWhiteSpace(user))
        {
            var run = await transcripts.GetAsync(request.TenantId, request.RunId, context.CancellationToken);
            user = run.UserId;
        }

        if (string.IsNullOrWhiteSpace(user))
        {
            await context.RespondAsync(new MemoryRemembered(request.RunId, request.TenantId, Guid.Empty, null, AlreadyKnown: false,
                $"Run {request.RunId} has no user, and long-term memory is kept per user: nothing was remembered. Start the run with a user id (\"userId\" in POST /runs, --user in the CLI)."));
            return;
        }

        var text = request.Text.Trim();
        if (text.Length == 0)
        {
            await context.RespondAsync(new MemoryRemembered(request.RunId, request.TenantId, Guid.Empty, user, AlreadyKnown: false, "The text to remember is empty."));
            return;
        }

        var id = MemoryItemIds.For(request.RunId, "call:" + request.CallId);
        var normalized = MemoryText.Normalize(text);
        var existing = (await items.ListItemsAsync(request.TenantId, user, context.CancellationToken))
            .FirstOrDefault(item => item.Id == id || MemoryText.Normalize(item.Text) == normalized);
        if (existing is null)
        {
            await items.AddItemAsync(new MemoryItem(id, request.TenantId, user, text, MemoryItemIds.KindOf(request.Kind), request.RunId, clock.GetUtcNow()), context.CancellationToken);
        }

        await context.RespondAsync(new MemoryRemembered(request.RunId, request.TenantId, existing?.Id ?? id, user,
            AlreadyKnown: existing is not null && existing.Id != id));
    }
}

public sealed class ListMemoriesConsumer(IMemoryItemStore items) : IConsumer<ListMemories>
{
    public async Task Consume(ConsumeContext<ListMemories> context)
    {
        var request = context.Message;
        var listed = await items.ListItemsAsync(request.TenantId, request.UserId, context.CancellationToken);
        await context.RespondAsync(new MemoryList(request.TenantId, request.UserId, listed.Select(MemoryItemIds.View).ToList()));
    }
}

/// Deletes from the one place items are kept: the configured item store (SQLite or MongoDB). No
/// process keeps a copy of items in memory, so there is no cache to clear (docs/memory.md says what
/// deletion covers and what it does not).
public sealed class ForgetMemoriesConsumer(IMemoryItemStore items) : IConsumer<ForgetMemories>
{
    public async Task Consume(ConsumeContext<ForgetMemories> context)
    {
        var request = context.Message;
        var deleted = request.ItemId is { } id
            ? await items.DeleteItemAsync(request.TenantId, request.UserId, id, context.CancellationToken) ? 1 : 0
            : await items.DeleteItemsAsync(request.TenantId, request.UserId, context.CancellationToken);
        await context.RespondAsync(new MemoriesForgotten(request.TenantId, request.UserId, deleted));
    }
}
