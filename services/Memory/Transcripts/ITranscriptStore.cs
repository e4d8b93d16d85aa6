using Agentry.Contracts;

namespace Agentry.Memory;

/// UserId: the user the run works for (long-term memory is kept per user); null when it named none.
public sealed record RunStart(Guid RunId, string TenantId, string Agent, string Goal, string? InputJson, DateTimeOffset At, string? UserId = null);

/// A summary of a run's steps 1 to ThroughStep, written when they no longer fit the context
/// verbatim. Model: what wrote it (a model's name, or ExtractiveSummary.Writer when no model did).
public sealed record TranscriptSummary(Guid RunId, string TenantId, int ThroughStep, string Text, string Model, DateTimeOffset At);

public sealed record RunEnd(Guid RunId, string TenantId, string Agent, string Status, string? Answer, string? Reason, int Steps, TokenUsage Usage, DateTimeOffset At, decimal TotalCost = 0);

/// Each run's transcript. Every write is an idempotent upsert keyed by run, step and call, so
/// messages may arrive twice and in any order without corrupting the record.
public interface ITranscriptStore
{
    Task StartRunAsync(RunStart start, CancellationToken cancellationToken);

    Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken);

    Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken);

    Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken);

    Task EndRunAsync(RunEnd end, CancellationToken cancellationToken);

    /// Records the calls of a step that wait for a person's approval. A decision recorded before
    /// (messages travel on different queues) is kept.
    Task RecordApprovalRequestedAsync(ApprovalRequested request, DateTimeOffset at, CancellationToken cancellationToken);

    /// Records a decision on a waiting call; the first decision of a call wins, as in the saga.
    Task RecordApprovalDecidedAsync(ApprovalDecided decision, DateTimeOffset at, CancellationToken cancellationToken);

    /// The tenant's calls still waiting for a decision, of runs still running, oldest first.
    Task<IReadOnlyList<ApprovalView>> PendingApprovalsAsync(string tenantId, CancellationToken cancellationToken);

    /// A person resumed the escalated run with guidance after the step: recorded on that step (the
    /// first guidance for a step wins), and the run is Running again.
    Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken);

    /// The run with its steps in order; RunView.Found is false for an unknown run. Run ids are
    /// unique across tenants, so this read needs none: it serves callers that do not know the
    /// tenant yet (the Gateway's GET /runs/{id}). Prefer the overload with the tenant.
    Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken);

    /// The run only if it belongs to the tenant; another tenant's run is reported as not found.
    Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken);

    /// Keeps a summary, keyed by run and ThroughStep; the first one saved for a key is kept (two
    /// deliveries of one request summarize the same steps once each, and the context stays stable).
    Task SaveSummaryAsync(TranscriptSummary summary, CancellationToken cancellationToken);

    /// The summary of the run that covers the most steps without going past throughStep, or null.
    Task<TranscriptSummary?> GetSummaryAsync(string tenantId, Guid runId, int throughStep, CancellationToken cancellationToken);
}
