namespace Agentry.Contracts;

/// <summary>One human decision or admin action: who, when, what, from where. Published by whoever
/// took the action (the Gateway, the CLI); Memory keeps it in the audit trail.</summary>
/// <param name="Id">The entry's id: a redelivered entry with the same id is kept once.</param>
/// <param name="TenantId">The tenant the action was taken in.</param>
/// <param name="At">When the action was taken.</param>
/// <param name="Actor">Who took it, with which credential: "alice (key 3f2a...)", "alice@acme.com (token 8c1d...)", "root (cli)".</param>
/// <param name="Action">What was done, a dotted verb: "approval.approved", "approval.denied", "run.cancelled",
/// "run.resumed", "run.closed", "run.definition-moved", "key.created", "key.revoked", "memory.deleted".</param>
/// <param name="Source">From where: the caller's remote IP address, or "cli".</param>
/// <param name="RunId">The run it acted on, if any.</param>
/// <param name="Target">What it acted on within the run or tenant (a call id, a key id, a memory id), if any.</param>
/// <param name="Detail">A comment or reason, in the actor's words.</param>
public sealed record AuditRecorded(
    Guid Id,
    string TenantId,
    DateTimeOffset At,
    string Actor,
    string Action,
    string Source,
    Guid? RunId = null,
    string? Target = null,
    string? Detail = null);

/// <summary>Ask Memory for a tenant's audit trail, newest first (request/response).</summary>
/// <param name="TenantId">The tenant: another tenant's entries are never returned, even for the same run.</param>
/// <param name="RunId">Only the entries of this run; null for all of the tenant's.</param>
/// <param name="Limit">At most this many entries; clamped to 1..1000.</param>
/// <param name="Before">Only entries taken strictly before this time: the oldest At of the previous page, to page back.</param>
public sealed record GetAuditTrail(string TenantId, Guid? RunId = null, int Limit = 100, DateTimeOffset? Before = null);

/// <summary>Memory's answer to GetAuditTrail.</summary>
/// <param name="Entries">The entries, newest first.</param>
public sealed record AuditTrail(IReadOnlyList<AuditRecorded> Entries);
