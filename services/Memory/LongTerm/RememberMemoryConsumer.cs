using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

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
