using Agentry.Contracts;
using Agentry.Agents;

namespace Agentry.Notifier.Channels;

/// One way of reaching people. Every kind of notification (a run's outcome, an escalation, an approval
/// to give) goes through the same channels: NotificationDispatcher picks the agent's channels and
/// DeliverNotificationConsumer calls SendAsync, once per channel, with retries.
public interface INotificationChannel
{
    /// webhook, slack or email: the name agents use under `notify:`.
    string Name { get; }

    bool IsConfigured(AgentNotifications to);

    /// Where it goes, for logs: never a secret (no Slack URL, no password).
    string Describe(AgentNotifications to);

    /// Delivers or throws; the caller retries.
    Task SendAsync(Notification notification, AgentNotifications to, CancellationToken cancellationToken);
}
