using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Agents;
using OpenTelemetry;

namespace Agentry.Notifier.Channels;

/// Posts to a Slack incoming webhook: `text` (the fallback Slack shows in notifications) and blocks
/// with the title, the text and a link to the run.
public sealed class SlackChannel(IHttpClientFactory httpClients) : INotificationChannel
{
    public const string HttpClientName = "notifier-slack";

    // Slack refuses a section block's text over 3,000 characters.
    private const int MaxSectionText = 2_900;

    public string Name => "slack";

    public bool IsConfigured(AgentNotifications to) => to.Slack is not null;

    // The URL holds the webhook's token: only its host is shown.
    public string Describe(AgentNotifications to) => $"Slack webhook at {to.Slack?.Host}";

    public async Task SendAsync(Notification notification, AgentNotifications to, CancellationToken cancellationToken)
    {
        var webhook = to.Slack ?? throw new InvalidOperationException("The agent has no Slack webhook.");
        // Nor may a trace carry the URL (url.full): no HTTP client span for this call.
        using var untraced = SuppressInstrumentationScope.Begin();
        using var response = await httpClients.CreateClient(HttpClientName).PostAsJsonAsync(webhook, Message(notification), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // Slack says what was wrong in a short body (invalid_payload, no_text, ...).
            var detail = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"The Slack webhook at {webhook.Host} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Shorten(detail, 200)}");
        }
    }

    public static SlackMessage Message(Notification notification)
    {
        var blocks = new List<SlackBlock>
        {
            new("header", new SlackText("plain_text", Shorten(notification.Title, 150))),
            new("section", new SlackText("mrkdwn", Shorten(Escape(notification.Text), MaxSectionText))),
        };
        if (notification.Link is { } link)
        {
            blocks.Add(new("section", new SlackText("mrkdwn", $"<{link}|Open the run>")));
        }

        var text = notification.Link is { } l ? $"{notification.Title}: {l}" : notification.Title;
        return new SlackMessage(text, blocks);
    }

    // Slack's mrkdwn treats &, < and > as markup.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Shorten(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}

public sealed record SlackMessage(string Text, IReadOnlyList<SlackBlock> Blocks);

public sealed record SlackBlock(string Type, SlackText Text);

public sealed record SlackText(string Type, string Text);
