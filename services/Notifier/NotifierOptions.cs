using System.ComponentModel.DataAnnotations;

namespace Agentry.Notifier;

/// Notifier settings. SummaryTimeout: how long to wait for Memory's transcript when writing an
/// escalation's summary. (Links to a run are Gateway:PublicUrl + /runs/{id}, read where they are made.)
public sealed class NotifierOptions
{
    public const string Section = "Notifier";

    public SmtpOptions Smtp { get; set; } = new();

    [Range(typeof(TimeSpan), "00:00:00.1", "00:05:00")]
    public TimeSpan SummaryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// How long a sender holds a notification while sending it before another copy may send it:
    /// longer than any channel's own time limit (webhook and Slack 10 s, SMTP Smtp:Timeout).
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan DeliveryLease { get; set; } = TimeSpan.FromSeconds(45);
}

/// The SMTP server email notifications go through. The password is never in configuration: PasswordEnv
/// names the environment variable that holds it, so it stays out of files and logs.
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// The sender, such as "Agentry <agentry@example.com>".
    public string? From { get; set; }

    public string? UserName { get; set; }

    public string? PasswordEnv { get; set; }

    /// Upgrade the connection with STARTTLS (required when true). Only a relay on the same host or
    /// network should be used without it.
    public bool StartTls { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
