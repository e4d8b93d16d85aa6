using Agentry.Contracts;

namespace Agentry.Memory;

/// The calls that waited for a person's approval, per run and call. Every write is an idempotent
/// upsert, so requests and decisions may arrive twice and in either order. A run's own view
/// (ITranscriptStore.GetAsync) shows its approvals too: both stores of a backend share one database.
public interface IApprovalStore
{
    /// Records the calls of a step that wait for a person's approval. A decision recorded before
    /// (messages travel on different queues) is kept.
    Task RecordApprovalRequestedAsync(ApprovalRequested request, DateTimeOffset at, CancellationToken cancellationToken);

    /// Records a decision on a waiting call; the first decision of a call wins, as in the saga.
    Task RecordApprovalDecidedAsync(ApprovalDecided decision, DateTimeOffset at, CancellationToken cancellationToken);

    /// Records who is asked to decide a waiting call (or that nobody is, Assignee null). Only an
    /// undecided call that was requested is assigned; of two assignments the later AssignedAt wins.
    Task RecordApprovalAssignedAsync(ApprovalAssigned assignment, CancellationToken cancellationToken);

    /// The tenant's calls still waiting for a decision, of runs still running, oldest first.
    Task<IReadOnlyList<ApprovalView>> PendingApprovalsAsync(string tenantId, CancellationToken cancellationToken);
}
