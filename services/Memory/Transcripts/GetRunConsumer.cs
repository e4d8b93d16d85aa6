using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class GetRunConsumer(ITranscriptStore store) : IConsumer<GetRun>
{
    public async Task Consume(ConsumeContext<GetRun> context) =>
        await context.RespondAsync(await store.GetAsync(context.Message.RunId, context.CancellationToken));
}
