using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class GetAuditTrailConsumer(IAuditStore store) : IConsumer<GetAuditTrail>
{
    public async Task Consume(ConsumeContext<GetAuditTrail> context) =>
        await context.RespondAsync(new AuditTrail(await store.QueryAsync(context.Message, context.CancellationToken)));
}
