using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Gateway.Triggers.Events;

/// The agents' event triggers: one queue per trigger, bound to the upstream system's exchange, that
/// every Gateway replica consumes (competing consumers: each event is handled once). Connected once
/// the bus has started, because how many there are depends on the agents, not on the code.
/// Needs RabbitMQ: on the in-memory bus of a single process no upstream system can publish.
public sealed partial class EventSubscriptions(
    IReceiveEndpointConnector connector,
    AgentCatalog agents,
    TriggeredRuns runs,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILogger<EventSubscriptions> logger) : BackgroundService
{
    /// The queue of an agent's event trigger.
    public static string QueueOf(string agent, string trigger) => $"trigger-{agent}-{trigger}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriptions = agents.All.SelectMany(agent => agent.Triggers.OfType<EventTrigger>().Select(trigger => (Agent: agent.Name, Trigger: trigger))).ToList();
        if (subscriptions.Count == 0)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString("rabbitmq")))
        {
            foreach (var (agent, trigger) in subscriptions)
            {
                LogNeedsRabbitMq(agent, trigger.Name, trigger.Exchange);
            }

            return;
        }

        // Endpoints are connected to a bus that has started, which every hosted service's start awaits.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(started.SetResult))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        var quorum = configuration.GetValue("Bus:QuorumQueues", true);
        foreach (var (agent, trigger) in subscriptions)
        {
            var handle = connector.ConnectReceiveEndpoint(QueueOf(agent, trigger.Name), (context, endpoint) =>
            {
                var rabbitMq = (IRabbitMqReceiveEndpointConfigurator)endpoint;
                // The upstream's own exchange, as it declares it; no exchange of Agentry's message types.
                rabbitMq.ConfigureConsumeTopology = false;
                rabbitMq.Bind(trigger.Exchange, bind =>
                {
                    bind.ExchangeType = trigger.ExchangeType;
                    bind.RoutingKey = trigger.RoutingKey;
                });
                if (quorum)
                {
                    rabbitMq.SetQuorumQueue();
                }

                // Upstream events are plain JSON in their own shape, with no MassTransit envelope or type,
                // whatever content type they say; what this endpoint publishes keeps Agentry's envelope.
                endpoint.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                endpoint.UseMessageRetry(retry =>
                {
                    // An event that cannot become a run never will: straight to the error queue, with why.
                    retry.Ignore<UnusableEventException>();
                    retry.Ignore<Exception>(BrokerOutageFilter.IsBrokerUnavailable);
                    retry.Intervals(0, 100, 1000);
                });
                endpoint.UseInMemoryOutbox(context);
                endpoint.Consumer(() => new UpstreamEventConsumer(agent, trigger, runs, logger));
            });
            await handle.Ready.WaitAsync(stoppingToken);
            LogSubscribed(agent, trigger.Name, trigger.Exchange, trigger.RoutingKey);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event trigger {Agent}/{Trigger} on exchange '{Exchange}' is not subscribed: event triggers need RabbitMQ (ConnectionStrings:rabbitmq); upstream systems cannot publish to the in-memory bus of one process.")]
    private partial void LogNeedsRabbitMq(string agent, string trigger, string exchange);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event trigger {Agent}/{Trigger} subscribed to exchange '{Exchange}' with routing key '{RoutingKey}'.")]
    private partial void LogSubscribed(string agent, string trigger, string exchange, string routingKey);
}

/// Any upstream event: the body is read as JSON by the consumer itself, whatever its shape.
public sealed class UpstreamEvent;

/// An upstream event that cannot start a run (not JSON, not mappable, or refused); its message is the
/// reason, which MassTransit keeps on the message in the trigger's _error queue (MT-Fault-Message).
public sealed class UnusableEventException(string message) : Exception(message);

internal sealed partial class UpstreamEventConsumer(string agent, EventTrigger trigger, TriggeredRuns runs, ILogger logger) : IConsumer<UpstreamEvent>
{
    public async Task Consume(ConsumeContext<UpstreamEvent> context)
    {
        JsonElement document;
        try
        {
            using var parsed = JsonDocument.Parse(context.ReceiveContext.Body.GetBytes());
            document = parsed.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new UnusableEventException($"event trigger {agent}/{trigger.Name}: the event is not JSON ({e.Message}).");
        }

        // The event's own id (the AMQP message-id) names its run, so that a redelivery or a second publish
        // of it starts no second run. Without one, its content does: two identical events without ids
        // are one run (docs/triggers.md says so).
        // The AMQP property as the upstream set it: MassTransit's MessageId reads only UUIDs, and
        // upstream ids are often not ("evt-000017").
        var eventId = context.ReceiveContext.TransportHeaders.TryGetHeader("MessageId", out var header) && header is string { Length: > 0 } amqpId ? amqpId
            : context.MessageId?.ToString() ?? $"sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(context.ReceiveContext.Body.GetBytes()))}";
        var origin = new TriggerOrigin(trigger.Name, $"{trigger.Exchange} {trigger.RoutingKey}", eventId);
        var run = runs.Prepare(agent, trigger, document, origin, eventId);
        if (run.Filtered)
        {
            LogFiltered(agent, trigger.Name, eventId, run.Refusal!);
            return;
        }

        if (run.Goal is not { } goal)
        {
            throw new UnusableEventException($"event trigger {agent}/{trigger.Name}: {run.Refusal}");
        }

        using var span = TriggeredRuns.StartSpan(agent, trigger, origin);
        await context.Publish(goal, context.CancellationToken);
        LogStarted(agent, trigger.Name, eventId, goal.RunId);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} for trigger {Agent}/{Trigger} is {Reason}; no run.")]
    private partial void LogFiltered(string agent, string trigger, string eventId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} for trigger {Agent}/{Trigger} started run {RunId}.")]
    private partial void LogStarted(string agent, string trigger, string eventId, Guid runId);
}
