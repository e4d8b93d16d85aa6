using System.Text.Json.Serialization;

namespace Agentry.Gateway.Triggers.Webhooks;

/// Where a webhook delivery stands in the inbox.
[JsonConverter(typeof(JsonStringEnumConverter<WebhookDeliveryState>))]
public enum WebhookDeliveryState
{
    /// Verified and recorded; its run is being started (or the Gateway stopped while starting it:
    /// a replay finishes it, and cannot start a second run since the run id is the delivery's).
    Received,

    /// Its run was started: RunId.
    Started,

    /// The trigger's filter left it out (Reason); an operator's replay runs it anyway.
    Filtered,

    /// Verified, but it could not become a run (Reason: invalid JSON, a path the mapping needs is
    /// missing, the goal is invalid). A redelivery or a replay tries again, with the definitions of then.
    Refused,

    /// The bus would not take the run (Reason); the sender's retry or a replay tries again.
    Failed,

    /// Refused before it was verified (Reason: unsigned, wrongly signed, stale, no secret configured).
    /// Its body is not kept and it can never be replayed: only a sender can vouch for a delivery.
    Unverified,
}

/// One delivery to POST /hooks/{Agent}/{Trigger}. Id: the inbox's own id, for replay. DeliveryId: the
/// sender's (its delivery header), or "sha256:" and the hash of what it signed when it names none.
/// Headers: the few kept so that an operator sees what came (content type, event, delivery and
/// timestamp headers), never the signature. Body: the payload as received (UTF-8), null when it was
/// not verified. Duplicates: how many times the same delivery came again after the first.
public sealed record WebhookDelivery(
    Guid Id,
    string TenantId,
    string Agent,
    string Trigger,
    string Source,
    string DeliveryId,
    DateTimeOffset ReceivedAt,
    IReadOnlyDictionary<string, string> Headers,
    string? Body,
    WebhookDeliveryState State,
    Guid? RunId = null,
    string? Reason = null,
    int Duplicates = 0,
    DateTimeOffset? SettledAt = null);

/// The durable inbox of webhook deliveries (docs/triggers.md): every delivery to a known trigger is
/// recorded with what became of it, so that a redelivered webhook starts no second run and an
/// operator can list deliveries and replay those that failed for a reason since fixed. SQLite, or
/// MongoDB when `ConnectionStrings:mongodb` is set, as the key store chooses.
public interface IWebhookInbox
{
    /// Records a verified delivery in state Received, unless one of the same agent, trigger and
    /// delivery id is recorded already: then that one's Duplicates is counted up and it is
    /// returned so, with New false. Atomic: of two concurrent deliveries, one is new.
    Task<(WebhookDelivery Delivery, bool New)> ReceiveAsync(WebhookDelivery delivery, CancellationToken cancellationToken);

    /// Records a delivery refused before it was verified. It never takes part in deduplication,
    /// so that an unsigned request cannot claim a delivery id before the real delivery comes.
    Task RecordUnverifiedAsync(WebhookDelivery delivery, CancellationToken cancellationToken);

    /// Moves the delivery back to Received when it is in one of the states, for a retry or replay;
    /// false when it is not (another request got there first, or it was started meanwhile).
    Task<bool> ReopenAsync(Guid id, IReadOnlyCollection<WebhookDeliveryState> from, CancellationToken cancellationToken);

    /// What became of a Received delivery: Started with its run id, or Filtered, Refused or Failed with the reason.
    Task SettleAsync(Guid id, WebhookDeliveryState state, Guid? runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken);

    Task<WebhookDelivery?> FindAsync(Guid id, CancellationToken cancellationToken);

    /// The tenant's deliveries, newest first, of one agent and trigger when they are given.
    Task<IReadOnlyList<WebhookDelivery>> ListAsync(string tenantId, string? agent, string? trigger, int limit, CancellationToken cancellationToken);
}
