using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

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
