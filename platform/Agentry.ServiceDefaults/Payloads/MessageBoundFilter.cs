using System.Globalization;
using System.Reflection;
using MassTransit;
using MassTransit.Configuration;

namespace Agentry.ServiceDefaults.Payloads;

/// Refuses to send a message larger than Payloads:MaxMessageBytes, measured as the transport will
/// carry it (serialized, envelope included): the sender's consume fails with a reason that names the
/// message and its run, rather than the broker refusing it or a queue carrying megabytes.
public sealed class MessageBoundFilter<T>(int maxBytes) : IFilter<SendContext<T>>, IFilter<PublishContext<T>>
    where T : class
{
    private static readonly PropertyInfo? RunId = typeof(T).GetProperty("RunId");

    public Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
    {
        Check(context, maxBytes);
        return next.Send(context);
    }

    public Task Send(SendContext<T> context, IPipe<SendContext<T>> next)
    {
        Check(context, maxBytes);
        return next.Send(context);
    }

    private static void Check(SendContext<T> context, int maxBytes)
    {
        // A publish may pass the send pipe too: measured once.
        if (context.TryGetPayload<Measured>(out _))
        {
            return;
        }

        context.GetOrAddPayload(() => new Measured());
        var size = context.Serializer.GetMessageBody(context).GetBytes().Length;
        if (size > maxBytes)
        {
            var run = RunId is { } property ? $" of run {property.GetValue(context.Message)}" : "";
            throw new PayloadBoundException(string.Create(CultureInfo.InvariantCulture,
                $"The {typeof(T).Name} message{run} is {size:N0} bytes, over the bound of {maxBytes:N0} bytes (Payloads:MaxMessageBytes); it was not sent. Something large in it is kept inline: lower Payloads:InlineBytes so it is stored out of line, or raise the bound (docs/durability.md)."));
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("messageBound");

    private sealed class Measured;
}

/// Adds the bound to every message type a bus sends or publishes.
public sealed class MessageBoundSpecification(int maxBytes) : ISendPipeSpecificationObserver, IPublishPipeSpecificationObserver
{
    public void MessageSpecificationCreated<T>(IMessageSendPipeSpecification<T> specification)
        where T : class =>
        specification.UseFilter<SendContext<T>>(new MessageBoundFilter<T>(maxBytes));

    public void MessageSpecificationCreated<T>(IMessagePublishPipeSpecification<T> specification)
        where T : class =>
        specification.UseFilter<PublishContext<T>>(new MessageBoundFilter<T>(maxBytes));
}
