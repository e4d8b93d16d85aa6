using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Notifier.Delivery;

namespace Agentry.Notifier.Channels;

/// POSTs JSON to the agent's webhook: the notification's Body (a run's outcome, say), or its
/// title, text and link.
public sealed class WebhookChannel(IHttpClientFactory httpClients) : INotificationChannel
{
    public const string HttpClientName = "notifier-webhooks";

    public string Name => "webhook";

    public bool IsConfigured(AgentNotifications to) => to.Webhook is not null;

    public string Describe(AgentNotifications to) => $"webhook {to.Webhook}";

    public async Task SendAsync(Notification notification, AgentNotifications to, CancellationToken cancellationToken)
    {
        var webhook = to.Webhook ?? throw new InvalidOperationException("The agent has no webhook.");
        var body = notification.Body ?? JsonSerializer.SerializeToElement(
            new { @event = notification.Event, title = notification.Title, text = notification.Text, link = notification.Link },
            JsonSerializerOptions.Web);
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = JsonContent.Create(body) };
        // The same notification sent again (a sender that died after sending, before recording it)
        // carries the same key, so the receiver can recognise the repeat.
        request.Headers.Add("Idempotency-Key", DeliveryKeys.Of(notification));
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The webhook {webhook} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }
}
