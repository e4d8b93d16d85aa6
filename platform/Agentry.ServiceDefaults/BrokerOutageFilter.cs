using MassTransit;

namespace Agentry.ServiceDefaults;

/// First in every endpoint's error pipe. A message whose consume failed because the broker went
/// away (a restart, a failover) is not poison: it is kept, not moved to the error queue and its run
/// is not failed. Throwing here makes the transport return the delivery to the queue (on a lost
/// channel the broker does that itself), so it is consumed again once the connection is back.
/// See docs/decisions/0007-rabbitmq-queues-and-redelivery.md.
public sealed class BrokerOutageFilter : IFilter<ExceptionReceiveContext>
{
    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next) =>
        IsBrokerUnavailable(context.Exception)
            ? throw new BrokerUnavailableException($"The broker connection was lost while {context.InputAddress} consumed a message; it is returned to its queue.", context.Exception)
            : next.Send(context);

    public void Probe(ProbeContext context) => context.CreateFilterScope("brokerOutage");

    public static bool IsBrokerUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BrokerUnavailableException
                || e is MassTransitException { Message: var m } && m.Contains("connection", StringComparison.OrdinalIgnoreCase)
                || e.GetType().Namespace?.StartsWith("RabbitMQ.Client", StringComparison.Ordinal) == true)
            {
                return true;
            }
        }

        return false;
    }
}

public sealed class BrokerUnavailableException(string message, Exception inner) : Exception(message, inner);
