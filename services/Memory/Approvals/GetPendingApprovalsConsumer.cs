using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class GetPendingApprovalsConsumer(IApprovalStore store) : IConsumer<GetPendingApprovals>
{
    public async Task Consume(ConsumeContext<GetPendingApprovals> context) =>
        await context.RespondAsync(new PendingApprovals(await store.PendingApprovalsAsync(context.Message.TenantId, context.CancellationToken)));
}
