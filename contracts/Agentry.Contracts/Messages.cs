using System.Text.Json;

namespace Agentry.Contracts;

/// <summary>A new run: published by the Gateway, the CLI or any upstream system.</summary>
/// <param name="RunId">The run's id; the correlation id of every message of the run.</param>
/// <param name="TenantId">The tenant the run belongs to.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Goal">What the agent should achieve, in words.</param>
/// <param name="Input">Optional structured input.</param>
/// <param name="Trigger">How the run was started.</param>
/// <param name="Limits">Optional limits that override the agent's.</param>
/// <param name="ParentRunId">The run that started this one as a sub-agent.</param>
/// <param name="UserId">The user the run works for: long-term memory is kept and recalled per user.</param>
/// <param name="Origin">Which of the agent's triggers started the run (a schedule, a webhook, an event
/// subscription), and the due time or delivery it fired for; null for API calls and sub-agents.</param>
/// <param name="Lineage">Set when the run is a fork or a replay of another run (docs/durability.md); null otherwise.</param>
public sealed record GoalReceived(
    Guid RunId,
    string TenantId,
    string Agent,
    string Goal,
    JsonElement? Input = null,
    TriggerKind Trigger = TriggerKind.Api,
    RunLimits? Limits = null,
    Guid? ParentRunId = null,
    string? UserId = null,
    TriggerOrigin? Origin = null,
    RunLineage? Lineage = null);

/// <summary>What fired a triggered run.</summary>
/// <param name="Name">The trigger's name in the agent's definition.</param>
/// <param name="Source">Where it came from: the webhook's signature scheme (github, zendesk, hmac), the
/// event's exchange and routing key, or the schedule's cron expression and time zone.</param>
/// <param name="DeliveryId">The webhook's delivery id or the event's message id.</param>
/// <param name="DueAt">The due time a scheduled run fired for.</param>
public sealed record TriggerOrigin(string Name, string? Source = null, string? DeliveryId = null, DateTimeOffset? DueAt = null);

/// <summary>The saga asks Memory for the context of the next planning call.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step about to be planned (1-based).</param>
/// <param name="Goal">The run's goal (Memory starts the transcript with it at step 1).</param>
/// <param name="Input">The run's structured input.</param>
/// <param name="PreviousStep">The step before, as the saga accepted it: Memory records it first, so the
/// context never waits for Memory's own copy of the event, which travels on another queue.</param>
/// <param name="PreviousResult">The tool results of the step before, when the saga has them.</param>
/// <param name="PreviousVerdict">The verdict on the step before.</param>
/// <param name="PlanRequest">For a plan-and-execute agent: what the planning call is to do; null for ReAct.</param>
/// <param name="UserId">The run's user, whose long-term memory the context may recall.</param>
/// <param name="Guidance">What a person said when resuming an escalated run, given after PreviousStep: Memory
/// records it first, and the context shows it to the model as a user message.</param>
/// <param name="Trigger">How the run was started, at step 1 (Memory records the run's start from
/// whichever of this and the goal arrives first); null at later steps.</param>
/// <param name="Origin">Which trigger of the agent started the run, at step 1.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
/// <param name="InputRef">Set when the run's input was larger than the payload store's inline limit: Input is
/// then null and the input is kept out of line, for Memory to resolve when it builds the context.</param>
/// <param name="Lineage">The run is a fork or a replay: Memory seeds a fork's transcript with its parent's steps at its first
/// step, and builds a replay's context from its parent's recorded steps; null otherwise.</param>
public sealed record ContextRequested(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    string Goal,
    JsonElement? Input = null,
    StepPlanned? PreviousStep = null,
    ToolResult? PreviousResult = null,
    GoalEvaluated? PreviousVerdict = null,
    PlanRequest? PlanRequest = null,
    string? UserId = null,
    Guidance? Guidance = null,
    TriggerKind? Trigger = null,
    TriggerOrigin? Origin = null,
    string? AgentHash = null,
    PayloadRef? InputRef = null,
    RunLineage? Lineage = null);

/// <summary>Memory's answer: the messages the next planning call needs.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step about to be planned.</param>
/// <param name="Messages">Instructions, goal and transcript, in order.</param>
/// <param name="PlanRequest">The request's PlanRequest, passed on to the planning call.</param>
/// <param name="Usage">Tokens of the model calls Memory made to build this context (a summary of the older
/// steps); null when it made none. The planning call passes them on to the saga with its proposal.</param>
/// <param name="Cost">What those calls cost, in US dollars.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record ContextLoaded(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    IReadOnlyList<ContextMessage> Messages,
    PlanRequest? PlanRequest = null,
    TokenUsage? Usage = null,
    decimal Cost = 0,
    string? AgentHash = null);

/// <summary>The planning call's proposal for a step, before the saga accepts it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Step">The step this proposes.</param>
/// <param name="Thought">The model's reasoning text, if any.</param>
/// <param name="ToolCalls">Calls to run, in parallel; empty when the step is a final answer.</param>
/// <param name="FinalAnswer">The answer, when the model gave one instead of calls.</param>
/// <param name="Usage">Tokens the planning call used.</param>
/// <param name="Model">The model that answered.</param>
/// <param name="Error">Set when the model could not be asked or its reply could not be used.</param>
/// <param name="CacheHit">The reply came from the response cache: no tokens were spent on it.</param>
/// <param name="Plan">A new or revised plan, when the request was MakePlan or Replan; the calls are its first steps.</param>
/// <param name="Cost">What the planning call (with any re-asks) cost, in US dollars, from the price table.</param>
/// <param name="ContextUsage">Tokens of the model calls that built the step's context (ContextLoaded.Usage):
/// the saga counts them with the planning call's against the run's limits.</param>
/// <param name="ContextCost">What those calls cost, in US dollars (ContextLoaded.Cost).</param>
public sealed record StepProposed(
    Guid RunId,
    string TenantId,
    int Step,
    string? Thought,
    IReadOnlyList<ToolCall> ToolCalls,
    string? FinalAnswer,
    TokenUsage Usage,
    string Model,
    string? Error = null,
    bool CacheHit = false,
    Plan? Plan = null,
    decimal Cost = 0,
    TokenUsage? ContextUsage = null,
    decimal ContextCost = 0);

/// <summary>Step n as accepted by the saga: the model's thought and either tool calls or a final answer.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step (1-based).</param>
/// <param name="MaxSteps">The run's step limit, so every consumer judges the step by the same limit.</param>
/// <param name="Thought">The model's reasoning text, if any.</param>
/// <param name="ToolCalls">Calls to run, in parallel; empty when the step is a final answer.</param>
/// <param name="FinalAnswer">The answer, when the model gave one instead of calls.</param>
/// <param name="Usage">Tokens this step's planning call used.</param>
/// <param name="Model">The model that answered.</param>
/// <param name="CacheHit">The reply came from the response cache: no tokens were spent on it.</param>
/// <param name="Plan">The plan made or revised at this step (plan-and-execute agents), null otherwise.</param>
/// <param name="Cost">What this step's planning call cost, in US dollars.</param>
/// <param name="Goal">The run's goal, so that a final answer can be judged against it.</param>
/// <param name="DecidedOutcomes">Outcomes settled before the step ran, by call id: calls a person denied.
/// The ToolExecutor reports them as they are instead of running those calls.</param>
/// <param name="UserId">The run's user, so that a sub-agent's child run works for the same user.</param>
/// <param name="ContextUsage">Tokens of the model calls that built the step's context (a summary of the
/// older steps); null when there were none. Counted in the run's totals with Usage.</param>
/// <param name="ContextCost">What those calls cost, in US dollars.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
/// <param name="Replay">The step of a replay: its calls are a decision to compare, never to run; the ToolExecutor reports
/// each as not run, and the Evaluator does not judge it.</param>
public sealed record StepPlanned(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    int MaxSteps,
    string? Thought,
    IReadOnlyList<ToolCall> ToolCalls,
    string? FinalAnswer,
    TokenUsage Usage,
    string Model,
    bool CacheHit = false,
    Plan? Plan = null,
    decimal Cost = 0,
    string? Goal = null,
    IReadOnlyList<ToolOutcome>? DecidedOutcomes = null,
    string? UserId = null,
    TokenUsage? ContextUsage = null,
    decimal ContextCost = 0,
    string? AgentHash = null,
    bool Replay = false);

/// <summary>The outcome of every call of step n, published once all of them finished.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step whose calls these are.</param>
/// <param name="MaxSteps">The run's step limit, copied from the step.</param>
/// <param name="Outcomes">One outcome per call, in the order of the calls.</param>
public sealed record ToolResult(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    int MaxSteps,
    IReadOnlyList<ToolOutcome> Outcomes);

/// <summary>The Evaluator's verdict on step n.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Step">The step judged.</param>
/// <param name="Verdict">What should happen next.</param>
/// <param name="Reason">Why, in words a person can read.</param>
/// <param name="Confidence">0 to 1; rules are certain (1).</param>
/// <param name="FinalAnswer">The answer, with a Complete verdict.</param>
/// <param name="Usage">Tokens the evaluation itself used (a model judge); null when only rules judged.</param>
/// <param name="Cost">What the evaluation cost, in US dollars.</param>
public sealed record GoalEvaluated(
    Guid RunId,
    string TenantId,
    int Step,
    Verdict Verdict,
    string Reason,
    double Confidence,
    string? FinalAnswer = null,
    TokenUsage? Usage = null,
    decimal Cost = 0);

/// <summary>Any end of a run: consume this to act on every run that ends, however it ended.</summary>
public interface IRunEnded
{
    /// <summary>The run.</summary>
    Guid RunId { get; }

    /// <summary>The tenant.</summary>
    string TenantId { get; }

    /// <summary>The agent definition's name.</summary>
    string Agent { get; }

    /// <summary>The SHA-256 of the agent definition the run was pinned to when it ended; null from a publisher that does not pin.</summary>
    string? AgentHash { get; }
}

/// <summary>A run ended with an answer.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Answer">The final answer.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Usage">Tokens over the whole run.</param>
/// <param name="Duration">From goal to answer.</param>
/// <param name="TotalCost">What every model call of the run cost, in US dollars.</param>
/// <param name="ClosedBy">Set when a person closed an escalated run: who; the answer is then their resolution.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record RunCompleted(
    Guid RunId,
    string TenantId,
    string Agent,
    string Answer,
    int Steps,
    TokenUsage Usage,
    TimeSpan Duration,
    decimal TotalCost = 0,
    string? ClosedBy = null,
    string? AgentHash = null) : IRunEnded;

/// <summary>A run ended without an answer.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Reason">Why, in words a person can read.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Usage">Tokens over the whole run.</param>
/// <param name="Duration">From goal to failure.</param>
/// <param name="TotalCost">What every model call of the run cost, in US dollars.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record RunFailed(
    Guid RunId,
    string TenantId,
    string Agent,
    string Reason,
    int Steps,
    TokenUsage Usage,
    TimeSpan Duration,
    decimal TotalCost = 0,
    string? AgentHash = null) : IRunEnded;

/// <summary>A run was handed to a person. It waits, Escalated, until a person resumes it (ResumeRun),
/// closes it (CloseRun) or cancels it (CancelRun); it is not the end of the run.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Reason">Why it stopped.</param>
/// <param name="Summary">What was tried, written for a person.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Usage">Tokens over the whole run.</param>
/// <param name="Duration">From goal to escalation.</param>
/// <param name="TotalCost">What every model call of the run cost, in US dollars.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record RunEscalated(
    Guid RunId,
    string TenantId,
    string Agent,
    string Reason,
    string Summary,
    int Steps,
    TokenUsage Usage,
    TimeSpan Duration,
    decimal TotalCost = 0,
    string? AgentHash = null) : IRunEnded;

/// <summary>A run was stopped on request.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Reason">Who stopped it and why.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="Usage">Tokens over the whole run.</param>
/// <param name="Duration">From goal to cancellation.</param>
/// <param name="TotalCost">What every model call of the run cost, in US dollars.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record RunCancelled(
    Guid RunId,
    string TenantId,
    string Agent,
    string Reason,
    int Steps,
    TokenUsage Usage,
    TimeSpan Duration,
    decimal TotalCost = 0,
    string? AgentHash = null) : IRunEnded;

/// <summary>A person resumes an escalated run with guidance; the run plans its next step with it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Guidance">What the person tells the agent, shown to the model as a user message.</param>
/// <param name="By">Who resumed it.</param>
/// <param name="AtStep">The step the person saw the run escalate at; when set, a run that has moved on since
/// (resumed by someone else and escalated again) ignores this request.</param>
public sealed record ResumeRun(Guid RunId, string TenantId, string Guidance, string By, int? AtStep = null);

/// <summary>A person closes an escalated run: it ends as Completed, with the person's resolution as its answer.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Resolution">What the person did or decided, recorded as the run's answer.</param>
/// <param name="By">Who closed it.</param>
/// <param name="AtStep">The step the person saw the run escalate at (see ResumeRun.AtStep).</param>
public sealed record CloseRun(Guid RunId, string TenantId, string Resolution, string By, int? AtStep = null);

/// <summary>An escalated run was resumed by a person and goes on at Step.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step the run goes on with.</param>
/// <param name="Guidance">The person's guidance, given after the step before.</param>
/// <param name="MaxSteps">The run's step limit from now on.</param>
/// <param name="Deadline">The run's deadline from now on.</param>
public sealed record RunResumed(Guid RunId, string TenantId, string Agent, int Step, Guidance Guidance, int MaxSteps, DateTimeOffset Deadline);

/// <summary>Deliver a notification on one channel of an agent (the Notifier sends this to itself, one per
/// channel, so that each channel is retried on its own and one failing never holds up or repeats the others).</summary>
/// <param name="RunId">The run it is about.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent whose channels are used.</param>
/// <param name="Channel">The channel: webhook, slack or email.</param>
/// <param name="Notification">What to say.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record DeliverNotification(Guid RunId, string TenantId, string Agent, string Channel, Notification Notification, string? AgentHash = null);

/// <summary>Stop a run.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Reason">Why, recorded on the run.</param>
public sealed record CancelRun(Guid RunId, string TenantId, string Reason);

/// <summary>A message of a run could not be processed and went to an error queue: the run cannot go on.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant, when the message named one.</param>
/// <param name="Reason">Which message, where, and why, in words a person can read.</param>
/// <param name="Usage">Tokens of model calls made for the run on the way to the fault (a summary made for a
/// context that still did not fit), counted in the run's totals; null when none.</param>
/// <param name="Cost">What those calls cost, in US dollars.</param>
public sealed record RunFaulted(Guid RunId, string? TenantId, string Reason, TokenUsage? Usage = null, decimal Cost = 0);

/// <summary>A run's wall-clock deadline passed (published by the Planner's deadline monitor).</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Deadline">The deadline that passed.</param>
public sealed record RunDeadlineReached(Guid RunId, string TenantId, DateTimeOffset Deadline);

/// <summary>Tool calls of a step wait for a person's approval before they run (published by the Planner saga).</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent definition's name.</param>
/// <param name="Step">The step whose calls wait.</param>
/// <param name="Calls">The calls that need approval, with their tools and arguments.</param>
/// <param name="ExpiresAt">When the calls still undecided are settled by the agent's timeout policy.</param>
/// <param name="OnTimeout">What happens then: Deny or Escalate.</param>
/// <param name="Thought">The model's reasoning for the step, to help the person decide.</param>
/// <param name="Goal">The run's goal.</param>
/// <param name="AgentHash">The SHA-256 of the agent definition the run is pinned to (docs/durability.md): every service acts on that version of the agent; null from a publisher that does not pin, which means the current definition.</param>
public sealed record ApprovalRequested(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    IReadOnlyList<ToolCall> Calls,
    DateTimeOffset ExpiresAt,
    string OnTimeout,
    string? Thought = null,
    string? Goal = null,
    string? AgentHash = null);

/// <summary>A person's (or the timeout's) decision on one call waiting for approval.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Step">The step the call belongs to.</param>
/// <param name="CallId">The call decided.</param>
/// <param name="Approved">True: the call runs; false: it is denied and the model is told why.</param>
/// <param name="DecidedBy">Who decided.</param>
/// <param name="Comment">Why, in the decider's words; shown to the model with a denial.</param>
public sealed record ApprovalDecided(
    Guid RunId,
    string TenantId,
    int Step,
    string CallId,
    bool Approved,
    string DecidedBy,
    string? Comment = null);

/// <summary>A person was put in charge of deciding a call waiting for approval (published by the Gateway;
/// Memory records it with the call). The latest assignment by AssignedAt wins, whatever order they arrive in.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Step">The step the call belongs to.</param>
/// <param name="CallId">The call.</param>
/// <param name="Assignee">Who should decide it; null when the assignment is taken back.</param>
/// <param name="AssignedBy">Who assigned it.</param>
/// <param name="AssignedAt">When.</param>
public sealed record ApprovalAssigned(
    Guid RunId,
    string TenantId,
    int Step,
    string CallId,
    string? Assignee,
    string AssignedBy,
    DateTimeOffset AssignedAt);

/// <summary>The summary of an escalated run that the Notifier wrote for the person who takes it over
/// (and sent on the agent's channels); Memory keeps it with the run, so the console shows the same text.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Step">The step the run escalated at (RunEscalated.Steps).</param>
/// <param name="Summary">The summary, as sent.</param>
public sealed record EscalationSummarized(Guid RunId, string TenantId, int Step, string Summary);

/// <summary>The approval of a run's waiting calls timed out (published by the Planner's deadline monitor).</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Deadline">The approval deadline that passed.</param>
public sealed record ApprovalDeadlineReached(Guid RunId, string TenantId, DateTimeOffset Deadline);

/// <summary>Ask Memory for the calls of a tenant's running runs that wait for approval (request/response).</summary>
/// <param name="TenantId">The tenant.</param>
public sealed record GetPendingApprovals(string TenantId);

/// <summary>The calls waiting for approval, oldest first.</summary>
/// <param name="Approvals">The undecided calls of runs still running.</param>
public sealed record PendingApprovals(IReadOnlyList<ApprovalView> Approvals);

/// <summary>A tool call that needed approval, as Memory recorded it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent.</param>
/// <param name="Step">The step.</param>
/// <param name="CallId">The call.</param>
/// <param name="Tool">The tool called.</param>
/// <param name="Arguments">The call's arguments.</param>
/// <param name="RequestedAt">When approval was asked for.</param>
/// <param name="ExpiresAt">When the timeout policy settles it.</param>
/// <param name="Approved">The decision; null while undecided.</param>
/// <param name="DecidedBy">Who decided.</param>
/// <param name="Comment">The decider's comment.</param>
/// <param name="DecidedAt">When it was decided.</param>
/// <param name="Assignee">Who is asked to decide it; null when nobody is.</param>
/// <param name="AssignedBy">Who assigned it.</param>
/// <param name="AssignedAt">When it was assigned.</param>
public sealed record ApprovalView(
    Guid RunId,
    string TenantId,
    string Agent,
    int Step,
    string CallId,
    string Tool,
    JsonElement Arguments,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    bool? Approved = null,
    string? DecidedBy = null,
    string? Comment = null,
    DateTimeOffset? DecidedAt = null,
    string? Assignee = null,
    string? AssignedBy = null,
    DateTimeOffset? AssignedAt = null);

/// <summary>Ask Memory for what is known of a run (request/response).</summary>
/// <param name="RunId">The run.</param>
public sealed record GetRun(Guid RunId);

/// <summary>A run as Memory recorded it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Found">False when no such run is known.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Agent">The agent.</param>
/// <param name="Goal">The goal.</param>
/// <param name="Status">Where the run stands; null when it is not found.</param>
/// <param name="Answer">The final answer, when completed.</param>
/// <param name="Reason">Why it ended, when it ended without an answer.</param>
/// <param name="Usage">Tokens over the whole run, once it ended.</param>
/// <param name="Steps">Each recorded step.</param>
/// <param name="TotalCost">What every model call of the run cost, in US dollars, once it ended.</param>
/// <param name="UserId">The user the run worked for, when it named one.</param>
/// <param name="Approvals">The tool calls of the run that needed a person's approval, with the decisions.</param>
/// <param name="Trigger">How the run was started, when it was recorded.</param>
/// <param name="Origin">Which trigger of the agent started it, for triggered runs.</param>
/// <param name="EscalationSummary">While the run waits for a person: the summary the Notifier sent them
/// about this escalation, once written; null otherwise.</param>
/// <param name="OnlineEvaluation">The run's online grades, once the Evaluator graded it (only runs its
/// agent's online evaluation samples are graded); null otherwise.</param>
/// <param name="ExtractionUsage">Tokens of asking the model, after the run completed, what it taught about its
/// user (long-term memory); not in Usage, which is what the run itself spent. Null when it was not asked.</param>
/// <param name="ExtractionCost">What that cost, in US dollars; not in TotalCost.</param>
/// <param name="Definition">Which version of its agent the run acts on, as the Planner holds it (the Gateway adds it
/// to GET /runs/{id}); null from Memory, and when the Planner did not answer.</param>
/// <param name="Lineage">The run this one is a fork or a replay of; null for any other run.</param>
/// <param name="Children">The forks and replays of this run, oldest first; null when it has none.</param>
/// <param name="Input">The run's structured input, as it started with it (a fork or a replay starts with it again); null when it had none.</param>
public sealed record RunView(
    Guid RunId,
    bool Found,
    string? TenantId,
    string? Agent,
    string? Goal,
    RunStatus? Status,
    string? Answer,
    string? Reason,
    TokenUsage? Usage,
    IReadOnlyList<StepView> Steps,
    decimal? TotalCost = null,
    string? UserId = null,
    IReadOnlyList<ApprovalView>? Approvals = null,
    TriggerKind? Trigger = null,
    TriggerOrigin? Origin = null,
    string? EscalationSummary = null,
    OnlineEvaluationView? OnlineEvaluation = null,
    TokenUsage? ExtractionUsage = null,
    decimal? ExtractionCost = null,
    RunDefinition? Definition = null,
    RunLineage? Lineage = null,
    IReadOnlyList<RunChild>? Children = null,
    JsonElement? Input = null)
{
    /// <summary>The answer to a GetRun for a run nobody recorded.</summary>
    public static RunView NotFound(Guid runId) => new(runId, false, null, null, null, null, null, null, null, []);
}

/// <summary>One step of a recorded run.</summary>
/// <param name="Step">The step number.</param>
/// <param name="Thought">The model's thought.</param>
/// <param name="ToolCalls">The calls made.</param>
/// <param name="Outcomes">Their results.</param>
/// <param name="FinalAnswer">The answer, if this step gave one.</param>
/// <param name="Verdict">The Evaluator's verdict.</param>
/// <param name="VerdictReason">Why.</param>
/// <param name="Usage">Tokens of the step's planning call.</param>
/// <param name="Model">The model that planned it.</param>
/// <param name="CacheHit">The plan came from the response cache: no tokens were spent on it.</param>
/// <param name="Plan">The plan made or revised at this step, if any.</param>
/// <param name="Cost">What the step's planning call cost, in US dollars.</param>
/// <param name="Guidance">What a person said after this step when resuming the escalated run.</param>
/// <param name="ContextUsage">Tokens of the model calls that built the step's context (a summary of the
/// older steps); null when there were none.</param>
/// <param name="ContextCost">What those calls cost, in US dollars.</param>
public sealed record StepView(
    int Step,
    string? Thought,
    IReadOnlyList<ToolCall> ToolCalls,
    IReadOnlyList<ToolOutcome> Outcomes,
    string? FinalAnswer,
    Verdict? Verdict,
    string? VerdictReason,
    TokenUsage? Usage,
    string? Model,
    bool CacheHit = false,
    Plan? Plan = null,
    decimal? Cost = null,
    Guidance? Guidance = null,
    TokenUsage? ContextUsage = null,
    decimal? ContextCost = null)
{
    /// Planned, and every call's outcome recorded: a step a context, a fork or a replay may build on.
    public bool IsRecordedWhole() => Usage is not null && ToolCalls.All(call => Outcomes.Any(o => o.CallId == call.CallId));
}

/// <summary>Ask Memory for the passages of knowledge collections that best answer a query (request/response; the search_knowledge tool sends it).</summary>
/// <param name="RunId">The run whose tool call asks.</param>
/// <param name="TenantId">The tenant whose collections are searched.</param>
/// <param name="Agent">The agent that asks.</param>
/// <param name="Query">What to look for, in words.</param>
/// <param name="Collections">The collections to search; the caller has checked the agent may read them.</param>
/// <param name="Limit">At most this many passages.</param>
public sealed record SearchKnowledge(Guid RunId, string TenantId, string Agent, string Query, IReadOnlyList<string> Collections, int Limit);

/// <summary>The answer to SearchKnowledge.</summary>
/// <param name="RunId">The run that asked.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="Passages">The passages found, best first.</param>
/// <param name="MissingCollections">Collections asked for that the tenant does not have (never ingested, or deleted).</param>
/// <param name="Error">Why the search could not be made (for example a collection built by another embedder); null when it was.</param>
public sealed record KnowledgeFound(Guid RunId, string TenantId, IReadOnlyList<KnowledgePassage> Passages, IReadOnlyList<string> MissingCollections, string? Error = null);

/// <summary>A passage of a knowledge collection, with where it came from so that an answer can cite it.</summary>
/// <param name="Collection">The collection.</param>
/// <param name="Source">The source document's path, relative to the folder that was ingested.</param>
/// <param name="Position">The passage's number within its source, from 0.</param>
/// <param name="Text">The passage.</param>
/// <param name="Score">Relevance, higher first; comparable only within one answer.</param>
public sealed record KnowledgePassage(string Collection, string Source, int Position, string Text, double Score);

/// <summary>An agent's online evaluation saw its scores drop: the mean score of its latest window of
/// graded runs is at least the configured drop below the mean of the window before it. Published by
/// the Evaluator once per window; the Notifier tells the agent's channels.</summary>
/// <param name="Agent">The agent.</param>
/// <param name="TenantId">The tenant of the run that closed the window.</param>
/// <param name="RunId">The graded run that closed the window.</param>
/// <param name="WindowEnd">How many of the agent's runs had been graded when the window closed: the window's identity.</param>
/// <param name="Window">Graded runs per window.</param>
/// <param name="BaselineMean">The mean score of the window before, from 0 to 1.</param>
/// <param name="WindowMean">The mean score of the latest window, from 0 to 1.</param>
/// <param name="Drop">The drop that makes an alert, from the agent's definition.</param>
public sealed record OnlineScoreDropped(
    string Agent,
    string TenantId,
    Guid RunId,
    long WindowEnd,
    int Window,
    double BaselineMean,
    double WindowMean,
    double Drop);
