using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using MassTransit;
using static Agentry.Planner.StateMachines.RunMessages;

namespace Agentry.Planner.StateMachines;

/// Human approval (docs/approvals.md): a step whose calls need a person is held back until each
/// waiting call is decided, or until the agent's approval timeout, which denies or escalates.
public sealed class RunApprovals(PinnedAgents agents, IRunDeadlines deadlines, TimeProvider clock)
{
    /// Who decided the calls the approval timeout denied.
    public const string TimeoutDecider = "approval timeout";

    public async Task<bool> AnyNeeded(BehaviorContext<AgentRunState, StepProposed> c) => (await NeedingAsync(c)).Count > 0;

    /// Holds the accepted step back (RunSteps.Accept, as every step is accepted) and asks for approval
    /// of the calls that need it, with a durable deadline for the agent's approval timeout.
    public async Task Hold(BehaviorContext<AgentRunState, StepProposed> c, StepPlanned step)
    {
        var agent = await agents.GetAsync(c.Saga.Agent, c.Saga.AgentHash, c.CancellationToken);
        c.Saga.Approvals = [.. (await NeedingAsync(c)).Select(call => new PendingApproval(call.CallId, call.Tool))];
        // Whole milliseconds: the deadline store keeps milliseconds, and the deadline it hands back
        // must equal this one to be recognised.
        var expires = DateTimeOffset.FromUnixTimeMilliseconds((clock.GetUtcNow() + agent.Approval.Timeout).ToUnixTimeMilliseconds());
        c.Saga.ApprovalExpiresAt = expires;
        c.Saga.ApprovalOnTimeout = agent.Approval.OnTimeout;
        await deadlines.SetAsync(new RunDeadline(c.Saga.CorrelationId, c.Saga.TenantId, expires, DeadlineMonitor.CurrentTraceParent(), DeadlineKind.Approval), c.CancellationToken);
        await c.Publish(ApprovalRequest(c.Saga, step));
    }

    /// A redelivered proposal of a held step asks again for the same calls, with the same expiry.
    public static Task RequestAgain(BehaviorContext<AgentRunState, StepProposed> c) =>
        c.Publish(ApprovalRequest(c.Saga, Deserialize<StepPlanned>(c.Saga.PlannedStepJson)!));

    public static bool IsWaiting(AgentRunState run, string callId) =>
        run.Approvals.Any(a => a.CallId == callId && a.Approved is null);

    public static bool AllDecided(AgentRunState run) => run.Approvals.All(a => a.Approved is not null);

    public static void Decide(AgentRunState run, ApprovalDecided decision) =>
        Decide(run, decision.CallId, decision.Approved, decision.DecidedBy, decision.Comment);

    /// A person's decision the run has already applied (the saga's own timeout decisions aside).
    public static bool IsApplied(AgentRunState run, ApprovalDecided decision) =>
        decision.DecidedBy != TimeoutDecider
        && run.Approvals.Any(a => a.CallId == decision.CallId && a.Approved == decision.Approved && a.DecidedBy == decision.DecidedBy);

    public static bool IsDue(AgentRunState run, ApprovalDeadlineReached reached, ApprovalTimeoutAction onTimeout) =>
        reached.Deadline == run.ApprovalExpiresAt && run.ApprovalOnTimeout == onTimeout;

    /// Denies every call still waiting, and tells Memory (the read model of approvals) so.
    public static async Task TimeOut<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        var comment = $"No decision by {c.Saga.ApprovalExpiresAt!.Value.ToString("u", CultureInfo.InvariantCulture)}.";
        foreach (var waiting in c.Saga.Approvals.Where(a => a.Approved is null).ToList())
        {
            Decide(c.Saga, waiting.CallId, approved: false, TimeoutDecider, comment);
            await c.Publish(new ApprovalDecided(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Step, waiting.CallId, Approved: false, TimeoutDecider, comment));
        }
    }

    public static string TimeoutReason(AgentRunState run)
    {
        var tools = string.Join(", ", run.Approvals.Where(a => a.DecidedBy == TimeoutDecider).Select(a => $"{a.Tool} ({a.CallId})"));
        return $"Approval timed out: nobody decided on {tools} at step {run.Step} by {run.ApprovalExpiresAt!.Value.ToString("u", CultureInfo.InvariantCulture)}; the agent's approval policy escalates on timeout.";
    }

    /// Sends the held step to the ToolExecutor: approved calls run, denied ones come back to the
    /// model as PermissionDenied outcomes carrying who denied them and why.
    public async Task Release<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        await deadlines.RemoveAsync(c.Saga.CorrelationId, DeadlineKind.Approval, c.CancellationToken);
        var step = Deserialize<StepPlanned>(c.Saga.PlannedStepJson)!;
        var denied = c.Saga.Approvals.Where(a => a.Approved == false).ToDictionary(a => a.CallId);
        var outcomes = step.ToolCalls
            .Where(call => denied.ContainsKey(call.CallId))
            .Select(call => new ToolOutcome(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.PermissionDenied, DenialText(denied[call.CallId]), TimeSpan.Zero))
            .ToList();
        step = step with { DecidedOutcomes = outcomes.Count == 0 ? null : outcomes };
        c.Saga.PlannedStepJson = JsonSerializer.Serialize(step);
        await c.Publish(step);
    }

    /// The proposed calls whose tool's policy says a person must approve them.
    private async Task<List<ToolCall>> NeedingAsync(BehaviorContext<AgentRunState, StepProposed> c) =>
        await agents.FindAsync(c.Saga.Agent, c.Saga.AgentHash, c.CancellationToken) is { } agent
            ? [.. c.Message.ToolCalls.Where(call => agent.PolicyOf(call.Tool)?.NeedsApproval == true)]
            : [];

    private static void Decide(AgentRunState run, string callId, bool approved, string decidedBy, string? comment) =>
        run.Approvals = [.. run.Approvals.Select(a => a.CallId == callId ? a with { Approved = approved, DecidedBy = decidedBy, Comment = comment } : a)];

    private static string DenialText(PendingApproval decision)
    {
        var comment = string.IsNullOrWhiteSpace(decision.Comment) ? "" : $": {decision.Comment.Trim()}";
        return decision.DecidedBy == TimeoutDecider
            ? $"Denied: nobody decided on this call before its approval timed out ({decision.Comment?.Trim()})."
            : $"Denied by {decision.DecidedBy}{comment}";
    }
}
