using Agentry.Contracts;

namespace Agentry.Memory;

/// The audit trail: every human decision and admin action, per tenant, kept in the run's store.
/// Entries are only appended, never changed, so the trail says what was done even after the run,
/// key or memory it names is gone.
public interface IAuditStore
{
    /// The most entries one query gives back, whatever it asks for.
    const int MaxLimit = 1000;

    /// Keeps an entry. One already kept with the same id (a redelivered message) is left as it was.
    Task AppendAsync(AuditRecorded entry, CancellationToken cancellationToken);

    /// The tenant's entries, newest first (ties by id, so pages do not shuffle): of the run when the
    /// query names one, older than Before when given, at most Limit clamped to 1..MaxLimit.
    Task<IReadOnlyList<AuditRecorded>> QueryAsync(GetAuditTrail query, CancellationToken cancellationToken);

    /// The query's limit, clamped: the trail is read a page at a time, never whole.
    static int LimitOf(GetAuditTrail query) => Math.Clamp(query.Limit, 1, MaxLimit);
}
