using Agentry.Contracts;
using Agentry.Agents;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Agentry.Notifier.Channels;

/// Mails the notification to the agent's recipients through the SMTP server in Notifier:Smtp
/// (MailKit): the title is the subject, the text and the link the plain-text body.
public sealed class EmailChannel(IOptions<NotifierOptions> options) : INotificationChannel
{
    public string Name => "email";

    public bool IsConfigured(AgentNotifications to) => to.EmailRecipients.Count > 0;

    public string Describe(AgentNotifications to) => $"email to {to.EmailRecipients.Count} recipient(s) via {options.Value.Smtp.Host ?? "(no Notifier:Smtp:Host)"}";

    public async Task SendAsync(Notification notification, AgentNotifications to, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host) || string.IsNullOrWhiteSpace(smtp.From))
        {
            throw new InvalidOperationException("The agent lists email recipients under notify.email, but no SMTP server is configured: set Notifier:Smtp:Host and Notifier:Smtp:From (and Port, UserName, PasswordEnv, StartTls as needed).");
        }

        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From));
        foreach (var recipient in to.EmailRecipients)
        {
            message.To.Add(MailboxAddress.Parse(recipient));
        }

        message.Subject = notification.Title;
        message.Body = new TextPart("plain")
        {
            Text = notification.Link is { } link ? $"{notification.Text}{Environment.NewLine}{Environment.NewLine}{link}{Environment.NewLine}" : notification.Text,
        };

        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.StartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            var password = smtp.PasswordEnv is { Length: > 0 } variable
                ? Environment.GetEnvironmentVariable(variable) ?? throw new InvalidOperationException($"Notifier:Smtp:PasswordEnv names the environment variable {variable}, which is not set.")
                : throw new InvalidOperationException("Notifier:Smtp:UserName is set without Notifier:Smtp:PasswordEnv: name the environment variable that holds the SMTP password.");
            await client.AuthenticateAsync(smtp.UserName, password, cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}
