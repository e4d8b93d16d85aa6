using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// What the saga publishes, built from the run as it stands. The run keeps the messages it may have
/// to send again (the accepted step, the step's results, a pending verdict) as JSON.
internal static class RunMessages
{
    public static T? Deserialize<T>(string? json)
        where T : class =>
        json is null ? null : JsonSerializer.Deserialize<T>(json);

    public static TokenUsage Usage(AgentRunState run) => new(run.InputTokens, run.OutputTokens);

    /// The context request of the run's current step; after the first, it carries the step just judged.
    public static ContextRequested ContextRequest(AgentRunState run, GoalEvaluated? previousVerdict) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.Step, run.Goal, Input(run),
            previousVerdict is null ? null : Deserialize<StepPlanned>(run.PlannedStepJson),
            previousVerdict is null ? null : Deserialize<ToolResult>(run.ToolResultJson),
            previousVerdict,
            Deserialize<PlanRequest>(run.PlanRequestJson),
            run.UserId,
            Trigger: IsFirstStep(run) ? run.Trigger : null,
            Origin: IsFirstStep(run) ? run.Origin : null,
            AgentHash: run.AgentHash,
            InputRef: run.InputRef,
            Lineage: run.Lineage,
            // A fork's guidance is a person's, given after the step it forks at, as on a resume.
            Guidance: IsFirstStep(run) ? run.Lineage?.Guidance : null);

    // A fork's first step is the one after the step it forks at.
    private static bool IsFirstStep(AgentRunState run) => run.Step == (run.Lineage is { Kind: LineageKind.Fork } fork ? fork.FromStep + 1 : 1);

    /// The step as the saga accepts it from the model's proposal.
    public static StepPlanned Accepted(AgentRunState run, StepProposed proposal) =>
        new(
            run.CorrelationId,
            run.TenantId,
            run.Agent,
            run.Step,
            run.MaxSteps,
            proposal.Thought,
            proposal.ToolCalls,
            proposal.ToolCalls.Count == 0 ? proposal.FinalAnswer ?? "" : null,
            proposal.Usage,
            proposal.Model,
            proposal.CacheHit,
            run.PlanAndExecute && RunPlans.AsksForPlan(run) ? proposal.Plan : null,
            proposal.Cost,
            run.Goal,
            UserId: run.UserId,
            ContextUsage: proposal.ContextUsage,
            ContextCost: proposal.ContextCost,
            AgentHash: run.AgentHash,
            Replay: RunLineages.IsReplay(run));

    /// The accepted step's calls that wait for a person.
    public static ApprovalRequested ApprovalRequest(AgentRunState run, StepPlanned step)
    {
        var waiting = run.Approvals.Select(a => a.CallId).ToHashSet();
        return new ApprovalRequested(
            run.CorrelationId, run.TenantId, run.Agent, run.Step,
            [.. step.ToolCalls.Where(call => waiting.Contains(call.CallId))],
            run.ApprovalExpiresAt!.Value, run.ApprovalOnTimeout.ToString(), step.Thought, run.Goal, run.AgentHash);
    }

    /// Publishes how the run ended under an id made of the run, the kind of end and the step, so that
    /// an end published again (a redelivered trigger finds the run already ended) carries the id of
    /// the first, and every consumer can recognise the repeat (docs/integration.md).
    public static Task PublishEnd<T, TEnd>(BehaviorContext<AgentRunState, T> c, TEnd end)
        where T : class
        where TEnd : class =>
        c.Publish(end, publish => publish.MessageId = RunEndMessageIds.Of(c.Saga.CorrelationId, typeof(TEnd).Name, c.Saga.Step));

    public static RunCompleted Completed(AgentRunState run, TimeProvider clock, string? closedBy = null) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.Answer ?? "", run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost, closedBy, run.AgentHash);

    /// A closed run's RunCompleted: its answer is the resolution of the person who closed it.
    public static RunCompleted Closed(AgentRunState run, TimeProvider clock) => Completed(run, clock, run.ClosedBy);

    public static RunFailed Failed(AgentRunState run, TimeProvider clock) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.LastReason ?? "", run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost, run.AgentHash);

    public static RunEscalated Escalated(AgentRunState run, string reason, TimeProvider clock)
    {
        var summary = $"Goal: {run.Goal}{Environment.NewLine}"
            + $"Agent: {run.Agent}, {run.Step} step(s), {run.InputTokens + run.OutputTokens} tokens, {ModelPrices.Format(run.TotalCost)}.{Environment.NewLine}"
            + $"Why it stopped: {reason}";
        return new RunEscalated(run.CorrelationId, run.TenantId, run.Agent, reason, summary, run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost, run.AgentHash);
    }

    public static RunCancelled Cancelled(AgentRunState run, string reason, TimeProvider clock) =>
        new(run.CorrelationId, run.TenantId, run.Agent, reason, run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost, run.AgentHash);

    /// RunResumed, and the context request of the resumed step, carrying the escalated step, its
    /// results, its verdict and the guidance, so that Memory records them before it builds the context.
    public static async Task PublishResume<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        var run = c.Saga;
        var guidance = Deserialize<Guidance>(run.GuidanceJson)!;
        var verdict = new GoalEvaluated(run.CorrelationId, run.TenantId, run.Step - 1,
            Enum.TryParse<Verdict>(run.LastVerdict, out var last) ? last : Verdict.Escalate, run.LastReason ?? "", 1);
        await c.Publish(new RunResumed(run.CorrelationId, run.TenantId, run.Agent, run.Step, guidance, run.MaxSteps, run.Deadline));
        await c.Publish(ContextRequest(run, verdict) with { Guidance = guidance });
    }

    private static JsonElement? Input(AgentRunState run) =>
        run.InputJson is null ? null : JsonDocument.Parse(run.InputJson).RootElement.Clone();
}

/// The message id of a run's end: the same for every publication of one end.
public static class RunEndMessageIds
{
    /// From the run, the end's message type name (RunCompleted, RunFailed, ...) and the step it ended at.
    public static Guid Of(Guid runId, string end, int step)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{runId:N}:{end}:{step}"), hash);
        return new Guid(hash[..16]);
    }
}
