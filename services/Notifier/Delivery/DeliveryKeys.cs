using Agentry.Contracts;

namespace Agentry.Notifier.Delivery;

public static class DeliveryKeys
{
    /// The notification's identity: its Key, or for a publisher that set none, its event, run and title.
    public static string Of(Notification notification, Guid? runId = null) =>
        notification.Key ?? $"{notification.Event}:{runId}:{notification.Title}";
}
