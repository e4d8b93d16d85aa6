using Agentry.Contracts;

namespace Agentry.Memory;

/// UserId: the user the run works for (long-term memory is kept per user); null when it named none.
public sealed record RunStart(Guid RunId, string TenantId, string Agent, string Goal, string? InputJson, DateTimeOffset At, string? UserId = null)
{
    /// How the run was started; null for a run recorded before runs said so.
    public TriggerKind? Trigger { get; init; }

    public TriggerOrigin? Origin { get; init; }

    /// The run this one is a fork or a replay of.
    public RunLineage? Lineage { get; init; }
}

public sealed record RunEnd(Guid RunId, string TenantId, string Agent, RunStatus Status, string? Answer, string? Reason, int Steps, TokenUsage Usage, DateTimeOffset At, decimal TotalCost = 0);

/// Each run's transcript. Every write is an idempotent upsert keyed by run, step and call, so
/// messages may arrive twice and in any order without corrupting the record.
public interface ITranscriptStore
{
    Task StartRunAsync(RunStart start, CancellationToken cancellationToken);

    Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken);

    Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken);

    Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken);

    Task EndRunAsync(RunEnd end, CancellationToken cancellationToken);

    /// What asking the model what the completed run taught about its user cost (MemoryExtractionConsumer).
    /// It is asked after the run ended, so it is kept apart from the run's own totals (the saga's, as its
    /// end reported them). The first record wins: a redelivered end asks again, perhaps from the cache.
    Task RecordExtractionAsync(Guid runId, TokenUsage usage, decimal cost, CancellationToken cancellationToken);

    /// A person resumed the escalated run with guidance after the step: recorded on that step (the
    /// first guidance for a step wins), and the run is Running again.
    Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken);

    /// The Notifier's summary of the run's escalation at a step; a summary of an earlier escalation
    /// never replaces a later one. RunView shows it only while the run waits at that step.
    Task RecordEscalationSummaryAsync(EscalationSummarized summary, CancellationToken cancellationToken);

    /// The run's online grades (RunView.OnlineEvaluation). The first recorded stays: the Evaluator
    /// grades a run once, and a redelivery carries the same grades again.
    Task RecordOnlineEvaluationAsync(RunGraded graded, CancellationToken cancellationToken);

    /// The run with its steps in order and its calls that waited for approval (recorded through
    /// IApprovalStore); RunView.Found is false for an unknown run. Run ids are unique across
    /// tenants, so this read needs none: it serves callers that do not know the tenant yet (the
    /// Gateway's GET /runs/{id}). Prefer the overload with the tenant.
    Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken);

    /// The run only if it belongs to the tenant; another tenant's run is reported as not found.
    Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken);

    /// The run as GetAsync reads it, but with only its steps after afterStep (and their outcomes) and
    /// without its approvals, forks and input (the request carries the input): what a context needs
    /// once steps 1 to afterStep are in a stored summary (ContextBuilder), so that building it reads
    /// the same amount at step 1,000 as at step 50.
    Task<RunView> GetRecentAsync(Guid runId, int afterStep, CancellationToken cancellationToken);

    /// The tenant's runs that match the query's filters, newest start first, at most query.Limit.
    /// Runs known only from events that came before their start (no start time yet) come last.
    Task<IReadOnlyList<RunSummary>> ListAsync(ListRuns query, CancellationToken cancellationToken);

    /// The runs of the tenant (and agent, when set) that started in [Since, Until), as RunTotalsTally counts them.
    Task<IReadOnlyList<AgentDayTotals>> TotalsAsync(GetRunTotals query, CancellationToken cancellationToken);
}
