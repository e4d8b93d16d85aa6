using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class GetRunTotalsConsumer(ITranscriptStore store) : IConsumer<GetRunTotals>
{
    public async Task Consume(ConsumeContext<GetRunTotals> context) =>
        await context.RespondAsync(new RunTotals(context.Message.TenantId, context.Message.Since, context.Message.Until, await store.TotalsAsync(context.Message, context.CancellationToken)));
}
