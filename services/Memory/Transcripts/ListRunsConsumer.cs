using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class ListRunsConsumer(ITranscriptStore store) : IConsumer<ListRuns>
{
    public async Task Consume(ConsumeContext<ListRuns> context) =>
        await context.RespondAsync(new RunList(await store.ListAsync(context.Message, context.CancellationToken)));
}
