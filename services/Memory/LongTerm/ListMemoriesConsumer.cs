using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class ListMemoriesConsumer(IMemoryItemStore items) : IConsumer<ListMemories>
{
    public async Task Consume(ConsumeContext<ListMemories> context)
    {
        var request = context.Message;
        var listed = await items.ListItemsAsync(request.TenantId, request.UserId, context.CancellationToken);
        await context.RespondAsync(new MemoryList(request.TenantId, request.UserId, listed.Select(MemoryItemIds.View).ToList()));
    }
}
