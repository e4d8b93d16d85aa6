using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class AuditRecordedConsumer(IAuditStore store) : IConsumer<AuditRecorded>
{
    public Task Consume(ConsumeContext<AuditRecorded> context) => store.AppendAsync(context.Message, context.CancellationToken);
}
