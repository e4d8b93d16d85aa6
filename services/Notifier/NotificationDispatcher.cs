using Agentry.Contracts;
using Agentry.Notifier.Channels;
using Agentry.Notifier.Delivery;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Notifier;

/// The one way into the channels, for every kind of notification: one DeliverNotification per
/// channel the agent has, so each is retried on its own (the endpoint's retry policy, then the error
/// queue) and a failing channel never repeats or holds up the others.
public sealed partial class NotificationDispatcher(PinnedAgents agents, IEnumerable<INotificationChannel> channels, ILogger<NotificationDispatcher> logger)
{
    /// Returns the channels it was sent to (none: the agent has no channel, and only the log has it).
    public async Task<IReadOnlyList<string>> NotifyAsync(IPublishEndpoint bus, Guid runId, string tenantId, string agent, Notification notification, CancellationToken cancellationToken, string? agentHash = null)
    {
        var to = (await agents.FindAsync(agent, agentHash, cancellationToken))?.Notify ?? AgentNotifications.None;
        var names = channels.Where(c => c.IsConfigured(to)).Select(c => c.Name).ToList();
        foreach (var name in names)
        {
            await bus.Publish(new DeliverNotification(runId, tenantId, agent, name, notification, agentHash), cancellationToken);
        }

        if (names.Count == 0)
        {
            LogNoChannel(logger, notification.Event, runId, agent);
        }

        return names;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Event} of run {RunId}: agent {Agent} names no notification channel.")]
    private static partial void LogNoChannel(ILogger logger, string @event, Guid runId, string agent);
}

/// Delivers one notification on one channel. A failure is logged with the attempt and thrown, so
/// the endpoint's retry policy tries again and, when it gives up, the message goes to the error queue.
/// Each channel delivers a notification once (IDeliveryLedger), whatever arrives again.
public sealed partial class DeliverNotificationConsumer(
    PinnedAgents agents,
    IEnumerable<INotificationChannel> channels,
    IDeliveryLedger ledger,
    IOptions<NotifierOptions> options,
    ILogger<DeliverNotificationConsumer> logger) : IConsumer<DeliverNotification>
{
    public async Task Consume(ConsumeContext<DeliverNotification> context)
    {
        var message = context.Message;
        var channel = channels.FirstOrDefault(c => c.Name == message.Channel)
            ?? throw new InvalidOperationException($"No notification channel is named '{message.Channel}'; known: {string.Join(", ", channels.Select(c => c.Name))}.");
        var agent = await agents.GetAsync(message.Agent, message.AgentHash, context.CancellationToken);
        if (!channel.IsConfigured(agent.Notify))
        {
            // The definition changed since the notification was queued.
            LogChannelGone(logger, message.Notification.Event, message.RunId, message.Agent, channel.Name);
            return;
        }

        var key = $"{channel.Name}:{DeliveryKeys.Of(message.Notification, message.RunId)}";
        if (!await ClaimAsync(key, context.CancellationToken))
        {
            LogAlreadyDelivered(logger, message.Notification.Event, message.RunId, channel.Describe(agent.Notify));
            return;
        }

        try
        {
            await channel.SendAsync(message.Notification, agent.Notify, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, message.Notification.Event, message.RunId, channel.Describe(agent.Notify), context.GetRetryAttempt() + 1, e.Message);
            await ledger.ReleaseAsync(key, CancellationToken.None);
            throw;
        }

        await RecordDeliveredAsync(key, message);
        LogDelivered(logger, message.Notification.Event, message.RunId, channel.Describe(agent.Notify));
    }

    /// The notification went out: from here no failure may send it again. Throwing would: the retry
    /// finds the lease, waits it out and sends. So a ledger that cannot record it now (Redis restarting)
    /// is asked again for as long as the lease keeps other copies waiting, and then it is left to lapse.
    private async Task RecordDeliveredAsync(string key, DeliverNotification message)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ledger.MarkDeliveredAsync(key, CancellationToken.None);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (waited.Elapsed >= options.Value.DeliveryLease)
                {
                    LogNotRecorded(logger, message.Notification.Event, message.RunId, e.Message);
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 2000)));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Event} of run {RunId} was delivered, but the delivery could not be recorded ({Problem}): a copy that arrives later may be sent again, with the same Idempotency-Key.")]
    private static partial void LogNotRecorded(ILogger logger, string @event, Guid runId, string problem);

    /// True when this copy is to send; false when the notification went out already. A copy that
    /// another sender is sending waits for that one to finish or for its lease to end.
    private async Task<bool> ClaimAsync(string key, CancellationToken cancellationToken)
    {
        var lease = options.Value.DeliveryLease;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            switch (await ledger.ClaimAsync(key, lease, cancellationToken))
            {
                case DeliveryClaim.Claimed:
                    return true;
                case DeliveryClaim.Delivered:
                    return false;
                case DeliveryClaim.Busy when waited.Elapsed < lease + TimeSpan.FromSeconds(1):
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                    break;
                default:
                    throw new InvalidOperationException($"The notification {key} is still held by another sender after its lease; trying again.");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Event} of run {RunId} delivered: {Channel}.")]
    private static partial void LogDelivered(ILogger logger, string @event, Guid runId, string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Event} of run {RunId} was delivered before ({Channel}); not sent again.")]
    private static partial void LogAlreadyDelivered(ILogger logger, string @event, Guid runId, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Event} of run {RunId} could not be delivered ({Channel}), attempt {Attempt}: {Problem}. It is tried again, then kept in the error queue.")]
    private static partial void LogFailed(ILogger logger, string @event, Guid runId, string channel, int attempt, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Event} of run {RunId} was for the {Channel} channel of agent {Agent}, which no longer has one; dropped.")]
    private static partial void LogChannelGone(ILogger logger, string @event, Guid runId, string agent, string channel);
}
