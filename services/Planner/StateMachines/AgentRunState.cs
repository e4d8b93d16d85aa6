using Agentry.Agents;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// What the saga needs for its decisions; the transcript itself lives in Memory.
public sealed class AgentRunState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public int Version { get; set; }
    public string CurrentState { get; set; } = "";

    public string TenantId { get; set; } = "";
    public string Agent { get; set; } = "";
    public string Goal { get; set; } = "";
    public string? InputJson { get; set; }

    /// The input, when it was larger than Payloads:InlineBytes: kept out of line, InputJson null
    /// (docs/durability.md). The saga never reads it back; Memory does, for the context.
    public PayloadRef? InputRef { get; set; }
    public string? UserId { get; set; }

    /// How the run was started, and by which of its agent's triggers (GoalReceived.Origin).
    public TriggerKind Trigger { get; set; }
    public TriggerOrigin? Origin { get; set; }

    /// Whether the run holds one of its tenant's slots (RunSlots): a root run from its start to its
    /// end, when its tenant has a limit.
    public bool HoldsTenantSlot { get; set; }

    /// The step being worked on, 1-based. Every step-scoped message must carry this number.
    public int Step { get; set; }
    public int MaxSteps { get; set; }
    public int MaxTokens { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset Deadline { get; set; }

    public int InputTokens { get; set; }
    public int OutputTokens { get; set; }

    /// Most spend in US dollars; null: no cost limit.
    public decimal? MaxCost { get; set; }

    /// Spend so far in US dollars: every planning call and every model judge call.
    public decimal TotalCost { get; set; }

    /// The step as accepted (StepPlanned, JSON), so that a redelivered proposal republishes exactly
    /// what was accepted rather than a second, possibly different, proposal.
    public string? PlannedStepJson { get; set; }

    /// The tool results of the current step (ToolResult, JSON), handed to Memory with the next
    /// context request.
    public string? ToolResultJson { get; set; }

    /// The final answer of a completed run, for republishing RunCompleted.
    public string? Answer { get; set; }

    /// Plan-and-execute only (see docs/decisions/0012): the current plan (Plan, JSON), the numbers
    /// of its steps done and of those the current saga step runs, the request the current step's
    /// planning call was given (PlanRequest, JSON, for republishing), and the re-plans so far.
    public bool PlanAndExecute { get; set; }
    public int MaxReplans { get; set; }
    public int Replans { get; set; }
    public string? PlanJson { get; set; }
    public List<int> PlanStepsDone { get; set; } = [];
    public List<int> PlanStepsRunning { get; set; } = [];
    public string? PlanRequestJson { get; set; }

    /// A Continue or Replan verdict that overtook its step's ToolResult (GoalEvaluated, JSON): a
    /// plan-and-execute run needs both to choose between the next wave and a re-plan.
    public string? PendingVerdictJson { get; set; }

    /// The calls of the current step waiting for a person, with their decisions as they come
    /// (docs/approvals.md); empty when nothing waits. The step itself is PlannedStepJson.
    public List<PendingApproval> Approvals { get; set; } = [];
    public DateTimeOffset? ApprovalExpiresAt { get; set; }
    public ApprovalTimeoutAction ApprovalOnTimeout { get; set; }
    /// What a resumed run is given afresh (see docs/decisions, people in the loop): as many steps as it
    /// started with, counted from the step it resumes at, and as long as it started with, from the resume.
    public int StepAllowance { get; set; }
    public TimeSpan DeadlineAllowance { get; set; }

    /// The latest resume: the step it resumed at and the person's guidance (Guidance, JSON), for
    /// republishing when the ResumeRun is redelivered.
    public int ResumedAtStep { get; set; }
    public string? GuidanceJson { get; set; }

    /// Who closed the escalated run; its Answer is then their resolution.
    public string? ClosedBy { get; set; }

    /// The agent definition the run acts on (docs/durability.md, decision 0028), pinned at its start;
    /// a move an operator asked for (MoveRunDefinition) waits here until the next step boundary.
    public string? AgentHash { get; set; }
    public string? MoveToAgentHash { get; set; }
    public string? MoveRequestedBy { get; set; }

    /// The goal's own limits (RunLimits, JSON): a move to another definition keeps them.
    public string? GoalLimitsJson { get; set; }

    /// The run this one is a fork or a replay of (GoalReceived.Lineage); null for any other run.
    public RunLineage? Lineage { get; set; }

    public string? LastVerdict { get; set; }
    public string? LastReason { get; set; }
}
