using Agentry.Contracts;
using Cronos;

namespace Agentry.Agents.Triggers;

/// A way the agent's runs start besides an API call, from `triggers:` in its definition. Every
/// trigger maps what fired it (a due time, a webhook's JSON body, an event's JSON) to a goal and
/// input with the same RunMapping. Line: where the definition declares it.
public abstract record AgentTrigger(string Name, RunMapping Mapping, long Line)
{
    public abstract TriggerKind Kind { get; }

    /// The tenant its runs belong to; null: the default tenant.
    public string? Tenant { get; init; }
}

/// Fires at each occurrence of Cron in TimeZone (docs/triggers.md states the daylight-saving policy).
public sealed record ScheduleTrigger(string Name, RunMapping Mapping, long Line, string CronText, CronExpression Cron, TimeZoneInfo TimeZone, MisfirePolicy Misfire)
    : AgentTrigger(Name, Mapping, Line)
{
    public override TriggerKind Kind => TriggerKind.Schedule;

    /// The cron expression and its zone, as a run records where it came from.
    public string Source => $"{CronText} ({TimeZone.Id})";

    /// The first due time strictly after the instant; null when the expression never fires again.
    public DateTimeOffset? NextAfter(DateTimeOffset instant) =>
        Cron.GetNextOccurrence(instant, TimeZone) is { } next ? next.ToUniversalTime() : null;
}

/// What a schedule does about the due times that passed while no process was running it.
public enum MisfirePolicy
{
    /// They are recorded as missed; the schedule goes on from now.
    Skip,
    /// The latest of them runs once (the others are recorded as missed); then the schedule goes on.
    RunOnce,
}

/// POST /hooks/{agent}/{name} on the Gateway, verified with Scheme's signature over the body, with the
/// secret configured under Triggers:Secrets:{Secret}. SignatureHeader, TimestampHeader and
/// DeliveryHeader override the scheme's own headers (and are how the generic hmac scheme is told them).
/// Tolerance: how old a signed timestamp may be.
public sealed record WebhookTrigger(
    string Name,
    RunMapping Mapping,
    long Line,
    WebhookScheme Scheme,
    string Secret,
    string? SignatureHeader,
    string? TimestampHeader,
    string? DeliveryHeader,
    TimeSpan Tolerance) : AgentTrigger(Name, Mapping, Line)
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    public override TriggerKind Kind => TriggerKind.Webhook;
}

public enum WebhookScheme
{
    /// X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body); X-GitHub-Delivery names the delivery.
    GitHub,
    /// X-Zendesk-Webhook-Signature: base64 HMAC-SHA256(secret, timestamp + body), with the timestamp in
    /// X-Zendesk-Webhook-Signature-Timestamp; X-Zendesk-Webhook-Invocation-Id names the delivery.
    Zendesk,
    /// HMAC-SHA256 in hex in a header the trigger names, over timestamp + "." + body when it names a
    /// timestamp header too, else over the body.
    Hmac,
}

/// A subscription to an upstream system's own events: a queue of the agent's bound to Exchange with
/// RoutingKey (a topic pattern such as order.delayed or order.*), whose JSON messages start runs.
public sealed record EventTrigger(string Name, RunMapping Mapping, long Line, string Exchange, string RoutingKey, string ExchangeType)
    : AgentTrigger(Name, Mapping, Line)
{
    public override TriggerKind Kind => TriggerKind.Event;
}
