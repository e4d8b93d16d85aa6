using Agentry.Contracts;

namespace Agentry.Notifier;

/// The JSON body POSTed to an agent's webhook when a run ends. TotalCost is what every model call
/// of the run cost, in US dollars (0 when no prices are configured).
public sealed record RunOutcome(
    string Event,
    Guid RunId,
    string TenantId,
    string Agent,
    RunStatus Status,
    string? Answer,
    string? Reason,
    string? Summary,
    int Steps,
    TokenUsage Usage,
    double DurationMs,
    decimal TotalCost)
{
    public static RunOutcome From(RunCompleted m) =>
        new("run.completed", m.RunId, m.TenantId, m.Agent, RunStatus.Completed, m.Answer, null, null, m.Steps, m.Usage, m.Duration.TotalMilliseconds, m.TotalCost);

    public static RunOutcome From(RunFailed m) =>
        new("run.failed", m.RunId, m.TenantId, m.Agent, RunStatus.Failed, null, m.Reason, null, m.Steps, m.Usage, m.Duration.TotalMilliseconds, m.TotalCost);

    public static RunOutcome From(RunEscalated m) =>
        new("run.escalated", m.RunId, m.TenantId, m.Agent, RunStatus.Escalated, null, m.Reason, m.Summary, m.Steps, m.Usage, m.Duration.TotalMilliseconds, m.TotalCost);

    public static RunOutcome From(RunCancelled m) =>
        new("run.cancelled", m.RunId, m.TenantId, m.Agent, RunStatus.Cancelled, null, m.Reason, null, m.Steps, m.Usage, m.Duration.TotalMilliseconds, m.TotalCost);
}
