using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;

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
        using var response = await httpClients.CreateClient(HttpClientName).PostAsJsonAsync(webhook, body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The webhook {webhook} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }
}
