using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Planning;
using Agentry.ServiceDefaults.Agents;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// The lifecycle of one run. Each step-scoped event is accepted only for the run's current step
/// and in the states that expect it, so a duplicated or late message (at-least-once delivery)
/// never advances a run twice. Every limit ends the run with a reason a person can read.
public sealed class AgentRunStateMachine : MassTransitStateMachine<AgentRunState>
{
    /// The states a run never leaves (decision 0005), and Escalated, which only a person moves on
    /// (decision 0021): all of them expire after the retention, so an escalation nobody answers
    /// within it can no longer be resumed or closed.
    public static readonly FrozenSet<string> FinishedStates =
        new[] { nameof(Completed), nameof(Failed), nameof(Escalated), nameof(Cancelled) }.ToFrozenSet();

    public AgentRunStateMachine(AgentCatalog agents, IRunDeadlines deadlines, TimeProvider clock)
    {
        InstanceState(x => x.CurrentState);
        this.ConnectEventObserver(new AgentRunTelemetry(clock));

        Event(() => GoalReceived, e => e.CorrelateById(c => c.Message.RunId));
        Event(() => ContextLoaded, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => StepProposed, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ToolResult, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => GoalEvaluated, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => DeadlineReached, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => CancelRequested, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => RunFaultReported, e => e.CorrelateById(c => c.Message.RunId));
        Event(() => ApprovalDecided, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ApprovalDeadlineReached, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ResumeRequested, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => CloseRequested, e => { e.CorrelateById(c => c.Message.RunId); e.OnMissingInstance(m => m.Discard()); });

        // Late and duplicated messages land here: the state they expected has passed.
        OnUnhandledEvent(x => x.Ignore());

        Initially(
            When(GoalReceived, c => StartProblem(c.Message, agents) is not null)
                .Then(c => Start(c.Saga, c.Message, null, clock))
                .ThenAsync(c => Fail(c, StartProblem(c.Message, agents)!, deadlines, clock))
                .TransitionTo(Failed),
            When(GoalReceived, c => StartProblem(c.Message, agents) is null)
                .Then(c => Start(c.Saga, c.Message, agents.Find(c.Message.Agent)!, clock))
                .ThenAsync(c => deadlines.SetAsync(new RunDeadline(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Deadline, DeadlineMonitor.CurrentTraceParent()), c.CancellationToken))
                .ThenAsync(RequestContext)
                .TransitionTo(LoadingContext),
            // The goal itself could not be read: the run is recorded as failed, with the reason.
            When(RunFaultReported)
                .Then(c => StartFaulted(c.Saga, c.Message, clock))
                .ThenAsync(c => Fail(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Failed));

        During(LoadingContext,
            When(ContextLoaded, c => c.Message.Step == c.Saga.Step)
                .TransitionTo(Planning));

        // The planning consumer reads ContextLoaded too, so its proposal can overtake the saga's own
        // copy of ContextLoaded: accept it in LoadingContext as well.
        During(LoadingContext, Planning,
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is not null)
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(c => Fail(c, $"The model could not plan step {c.Message.Step}: {Problem(c.Saga, c.Message)}", deadlines, clock))
                .TransitionTo(Failed),
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is null && OverTokenLimit(c.Saga, c.Message.Usage))
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(c => Fail(c, $"Token limit reached: the run used {c.Saga.InputTokens + c.Saga.OutputTokens} tokens by step {c.Saga.Step}, over its limit of {c.Saga.MaxTokens}.", deadlines, clock))
                .TransitionTo(Failed),
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is null && !OverTokenLimit(c.Saga, c.Message.Usage) && OverCostLimit(c.Saga, c.Message.Cost))
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(c => Fail(c, $"Cost limit of {ModelPrices.Format(c.Saga.MaxCost!.Value)} reached ({ModelPrices.Format(c.Saga.TotalCost)} spent by step {c.Saga.Step}).", deadlines, clock))
                .TransitionTo(Failed),
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is null && WithinLimits(c.Saga, c.Message) && c.Message.ToolCalls.Count > 0 && NeedingApproval(agents, c).Count > 0)
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(c => RequestApproval(c, agents, deadlines, clock))
                .TransitionTo(AwaitingApproval),
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is null && WithinLimits(c.Saga, c.Message) && c.Message.ToolCalls.Count > 0 && NeedingApproval(agents, c).Count == 0)
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(PublishStep)
                .TransitionTo(Acting),
            When(StepProposed, c => c.Message.Step == c.Saga.Step && Problem(c.Saga, c.Message) is null && WithinLimits(c.Saga, c.Message) && c.Message.ToolCalls.Count == 0)
                .Then(c => AddUsage(c.Saga, c.Message.Usage, c.Message.Cost))
                .ThenAsync(PublishStep)
                .TransitionTo(Evaluating));

        // Human approval (docs/approvals.md): each waiting call is decided once; the first decision
        // wins, and a decision for a call that is not waiting (unknown, already decided, another
        // step) changes nothing. Once all are decided, the step goes to the ToolExecutor with the
        // denied calls' outcomes settled.
        During(AwaitingApproval,
            When(ApprovalDecided, c => c.Message.Step == c.Saga.Step && IsWaiting(c.Saga, c.Message.CallId))
                .Then(c => Decide(c.Saga, c.Message.CallId, c.Message.Approved, c.Message.DecidedBy, c.Message.Comment))
                .IfElse(
                    c => c.Saga.Approvals.All(a => a.Approved is not null),
                    decided => decided.ThenAsync(c => ReleaseStep(c, deadlines)).TransitionTo(Acting),
                    waiting => waiting),
            When(ApprovalDeadlineReached, c => c.Message.Deadline == c.Saga.ApprovalExpiresAt && c.Saga.ApprovalOnTimeout == ApprovalTimeoutAction.Deny)
                .ThenAsync(c => TimeOutApprovals(c))
                .ThenAsync(c => ReleaseStep(c, deadlines))
                .TransitionTo(Acting),
            When(ApprovalDeadlineReached, c => c.Message.Deadline == c.Saga.ApprovalExpiresAt && c.Saga.ApprovalOnTimeout == ApprovalTimeoutAction.Escalate)
                .ThenAsync(c => TimeOutApprovals(c))
                .ThenAsync(c => Escalate(c, ApprovalTimeoutReason(c.Saga, clock), deadlines, clock))
                .TransitionTo(Escalated),
            // Redelivered: the proposal was accepted and approval asked for; ask again.
            When(StepProposed, c => c.Message.Step == c.Saga.Step && c.Message.Error is null)
                .ThenAsync(c => c.Publish(ApprovalRequest(c.Saga))));

        // A redelivered last decision finds the step released: release it again (the ToolExecutor
        // runs each call once). The saga's own timeout decisions come back here too and need nothing.
        During(Acting,
            When(ApprovalDecided, c => c.Message.Step == c.Saga.Step && c.Message.DecidedBy != ApprovalTimeoutDecider
                    && c.Saga.Approvals.Any(a => a.CallId == c.Message.CallId && a.Approved == c.Message.Approved && a.DecidedBy == c.Message.DecidedBy))
                .ThenAsync(c => RepublishStep(c)));

        During(Acting,
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is null)
                .Then(c => c.Saga.ToolResultJson = JsonSerializer.Serialize(c.Message))
                .TransitionTo(Evaluating),
            // A plan-and-execute verdict that came first was waiting for these results.
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is not null && OverReplanLimit(c.Saga, c.Message, PendingVerdict(c.Saga)))
                .Then(c => c.Saga.ToolResultJson = JsonSerializer.Serialize(c.Message))
                .ThenAsync(c => Fail(c, ReplanLimitReason(c.Saga, c.Message, PendingVerdict(c.Saga)), deadlines, clock))
                .TransitionTo(Failed),
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is not null && !OverReplanLimit(c.Saga, c.Message, PendingVerdict(c.Saga)))
                .Then(c => c.Saga.ToolResultJson = JsonSerializer.Serialize(c.Message))
                .ThenAsync(c => AdvancePlan(c, c.Message, PendingVerdict(c.Saga)))
                .TransitionTo(LoadingContext));

        // Redelivered triggers. A Planner can die after saving a transition and before its messages
        // went out; the redelivered trigger then finds the run already moved on. Republishing what
        // the transition published (downstream consumers are idempotent) keeps the run going.
        During(LoadingContext,
            When(GoalReceived, c => c.Saga.Step == 1)
                .ThenAsync(RequestContext),
            When(GoalEvaluated, c => c.Message.Step == c.Saga.Step - 1 && IsContinue(c.Message))
                .ThenAsync(c => c.Publish(ContextRequest(c.Saga, c.Message))),
            When(ToolResult, c => c.Message.Step == c.Saga.Step - 1 && c.Saga.PlanAndExecute && c.Saga.PendingVerdictJson is not null)
                .ThenAsync(c => c.Publish(ContextRequest(c.Saga, PendingVerdict(c.Saga)))));
        During(Acting, Evaluating,
            When(StepProposed, c => c.Message.Step == c.Saga.Step && c.Message.Error is null)
                .ThenAsync(c => RepublishStep(c)));
        During(Completed,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Complete)
                .ThenAsync(c => c.Publish(new RunCompleted(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Agent, c.Saga.Answer ?? "", c.Saga.Step, Usage(c.Saga), clock.GetUtcNow() - c.Saga.StartedAt, c.Saga.TotalCost))));
        During(Failed,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict is Verdict.Fail or Verdict.Continue or Verdict.Replan)
                .ThenAsync(c => c.Publish(FailedMessage(c.Saga, clock))),
            When(GoalReceived)
                .ThenAsync(c => c.Publish(FailedMessage(c.Saga, clock))));
        During(Escalated,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Escalate)
                .ThenAsync(c => Escalate(c, c.Saga.LastReason ?? c.Message.Reason, deadlines, clock)));
        During(LoadingContext,
            When(ResumeRequested, c => c.Saga.ResumedAtStep == c.Saga.Step && IsTheResume(c.Saga, c.Message))
                .ThenAsync(PublishResume));
        During(Completed,
            When(CloseRequested, c => c.Saga.ClosedBy == c.Message.By && c.Saga.Answer == c.Message.Resolution.Trim())
                .ThenAsync(c => c.Publish(ClosedMessage(c.Saga, clock))));

        // Escalated waits for a person (docs/decisions/0021): resumed with guidance, closed with a
        // resolution, or cancelled. A request that names the step it saw applies only while the run
        // is still escalated at that step, so a stale request never resumes a later escalation. An
        // empty guidance or resolution (a raw publisher; the Gateway refuses them) changes nothing.
        During(Escalated,
            When(ResumeRequested, c => StillAt(c.Saga, c.Message.AtStep) && !string.IsNullOrWhiteSpace(c.Message.Guidance))
                .Then(c => Resume(c.Saga, c.Message, agents.Find(c.Saga.Agent), clock))
                .ThenAsync(c => deadlines.SetAsync(new RunDeadline(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Deadline, DeadlineMonitor.CurrentTraceParent()), c.CancellationToken))
                .ThenAsync(PublishResume)
                .TransitionTo(LoadingContext),
            When(CloseRequested, c => StillAt(c.Saga, c.Message.AtStep) && !string.IsNullOrWhiteSpace(c.Message.Resolution))
                .Then(c => { c.Saga.Answer = c.Message.Resolution.Trim(); c.Saga.ClosedBy = c.Message.By; })
                .ThenAsync(c => c.Publish(ClosedMessage(c.Saga, clock)))
                .TransitionTo(Completed),
            When(CancelRequested)
                .ThenAsync(c => Cancel(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Cancelled));

        // The Evaluator reads ToolResult too, so its verdict can overtake the saga's own ToolResult.
        During(Acting, Evaluating,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Complete)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => Complete(c, deadlines, clock))
                .TransitionTo(Completed),
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Escalate)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => Escalate(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Escalated),
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Fail)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => Fail(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Failed),
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && c.Saga.Step >= c.Saga.MaxSteps)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => Fail(c, $"Step limit reached: {c.Saga.MaxSteps} steps taken without a final answer.", deadlines, clock))
                .TransitionTo(Failed),
            // ReAct: a Replan verdict means the same as Continue.
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && c.Saga.Step < c.Saga.MaxSteps && !c.Saga.PlanAndExecute)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(RequestNextContext)
                .TransitionTo(LoadingContext));

        // Plan-and-execute: the next wave, the answer or a re-plan, decided with the step's results.
        During(Acting,
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && c.Saga.Step < c.Saga.MaxSteps && c.Saga.PlanAndExecute)
                .Then(c => Remember(c.Saga, c.Message))
                .Then(c => c.Saga.PendingVerdictJson = JsonSerializer.Serialize(c.Message)));
        During(Evaluating,
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && c.Saga.Step < c.Saga.MaxSteps && c.Saga.PlanAndExecute
                    && OverReplanLimit(c.Saga, Deserialize<ToolResult>(c.Saga.ToolResultJson), c.Message))
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => Fail(c, ReplanLimitReason(c.Saga, Deserialize<ToolResult>(c.Saga.ToolResultJson), c.Message), deadlines, clock))
                .TransitionTo(Failed),
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && c.Saga.Step < c.Saga.MaxSteps && c.Saga.PlanAndExecute
                    && !OverReplanLimit(c.Saga, Deserialize<ToolResult>(c.Saga.ToolResultJson), c.Message))
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => AdvancePlan(c, Deserialize<ToolResult>(c.Saga.ToolResultJson), c.Message))
                .TransitionTo(LoadingContext));

        // The run's own deadline, a cancel and a fault end the run in every active state.
        During([LoadingContext, Planning, Acting, AwaitingApproval, Evaluating],
            When(DeadlineReached)
                .ThenAsync(c => Fail(c, $"Deadline passed: the run was still {c.Saga.CurrentState} at step {c.Saga.Step} at {c.Message.Deadline.ToString("u", CultureInfo.InvariantCulture)}, {Describe(c.Saga.Deadline - c.Saga.StartedAt)} after it started.", deadlines, clock))
                .TransitionTo(Failed),
            When(CancelRequested)
                .ThenAsync(c => Cancel(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Cancelled),
            When(RunFaultReported)
                .ThenAsync(c => Fail(c, c.Message.Reason, deadlines, clock))
                .TransitionTo(Failed));
    }

    public State LoadingContext { get; private set; } = null!;
    public State Planning { get; private set; } = null!;
    public State Acting { get; private set; } = null!;
    public State AwaitingApproval { get; private set; } = null!;
    public State Evaluating { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;
    public State Escalated { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;

    public Event<GoalReceived> GoalReceived { get; private set; } = null!;
    public Event<ContextLoaded> ContextLoaded { get; private set; } = null!;
    public Event<StepProposed> StepProposed { get; private set; } = null!;
    public Event<ToolResult> ToolResult { get; private set; } = null!;
    public Event<GoalEvaluated> GoalEvaluated { get; private set; } = null!;
    public Event<RunDeadlineReached> DeadlineReached { get; private set; } = null!;
    public Event<CancelRun> CancelRequested { get; private set; } = null!;
    public Event<RunFaulted> RunFaultReported { get; private set; } = null!;
    public Event<ApprovalDecided> ApprovalDecided { get; private set; } = null!;
    public Event<ApprovalDeadlineReached> ApprovalDeadlineReached { get; private set; } = null!;

    /// Who decided the calls the approval timeout denied.
    public const string ApprovalTimeoutDecider = "approval timeout";
    public Event<ResumeRun> ResumeRequested { get; private set; } = null!;
    public Event<CloseRun> CloseRequested { get; private set; } = null!;

    private static string? StartProblem(GoalReceived goal, AgentCatalog agents) =>
        GoalValidation.Problem(agents, goal.Agent, goal.Goal, goal.Limits);

    private static void Start(AgentRunState run, GoalReceived goal, AgentDefinition? agent, TimeProvider clock)
    {
        var limits = agent?.Limits ?? AgentLimits.Default;
        run.TenantId = string.IsNullOrWhiteSpace(goal.TenantId) ? ServiceDefaults.Extensions.DefaultTenant : goal.TenantId;
        run.Agent = goal.Agent;
        run.Goal = goal.Goal;
        run.InputJson = goal.Input?.GetRawText();
        run.UserId = string.IsNullOrWhiteSpace(goal.UserId) ? null : goal.UserId;
        run.Step = 1;
        run.MaxSteps = goal.Limits?.MaxSteps ?? limits.MaxSteps;
        run.MaxTokens = goal.Limits?.MaxTokens ?? limits.MaxTokens;
        run.MaxCost = goal.Limits?.MaxCost ?? limits.MaxCost;
        run.StartedAt = clock.GetUtcNow();
        run.Deadline = run.StartedAt + (goal.Limits?.Deadline ?? limits.Deadline);
        run.StepAllowance = run.MaxSteps;
        run.DeadlineAllowance = run.Deadline - run.StartedAt;
        if (agent?.Strategy == PlanningStrategy.PlanAndExecute)
        {
            run.PlanAndExecute = true;
            run.MaxReplans = limits.MaxReplans;
            run.PlanRequestJson = JsonSerializer.Serialize(new PlanRequest(PlanAction.MakePlan));
        }
    }

    private static bool StillAt(AgentRunState run, int? atStep) => atStep is null || atStep == run.Step;

    private static bool IsTheResume(AgentRunState run, ResumeRun resume) =>
        Deserialize<Guidance>(run.GuidanceJson) is { } guidance && guidance.Text == resume.Guidance.Trim() && guidance.By == resume.By;

    /// The run goes on at the next step with a fresh allowance: as many steps and as much time as it
    /// started with. Tokens and cost keep counting against the run's limits: a resume buys time and
    /// steps, never money.
    private static void Resume(AgentRunState run, ResumeRun resume, AgentDefinition? agent, TimeProvider clock)
    {
        var limits = agent?.Limits ?? AgentLimits.Default;
        var steps = run.StepAllowance > 0 ? run.StepAllowance : limits.MaxSteps;
        var time = run.DeadlineAllowance > TimeSpan.Zero ? run.DeadlineAllowance : limits.Deadline;
        run.Step++;
        run.ResumedAtStep = run.Step;
        run.MaxSteps = run.Step - 1 + steps;
        run.Deadline = clock.GetUtcNow() + time;
        run.GuidanceJson = JsonSerializer.Serialize(new Guidance(resume.Guidance.Trim(), resume.By));
        run.PendingVerdictJson = null;
        if (run.PlanAndExecute)
        {
            // The person's guidance is a reason to plan again; a re-plan a person asked for is not
            // counted against max_replans.
            var plan = Deserialize<Plan>(run.PlanJson);
            run.PlanRequestJson = JsonSerializer.Serialize(plan is null
                ? new PlanRequest(PlanAction.MakePlan)
                : new PlanRequest(PlanAction.Replan, plan, Reason: $"A person resumed the run with guidance: {resume.Guidance.Trim()}"));
        }
    }

    /// RunResumed, and the context request of the resumed step, carrying the escalated step, its
    /// results, its verdict and the guidance, so that Memory records them before it builds the context.
    private static async Task PublishResume<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        var run = c.Saga;
        var guidance = Deserialize<Guidance>(run.GuidanceJson)!;
        var verdict = new GoalEvaluated(run.CorrelationId, run.TenantId, run.Step - 1,
            Enum.TryParse<Verdict>(run.LastVerdict, out var last) ? last : Verdict.Escalate, run.LastReason ?? "", 1);
        await c.Publish(new RunResumed(run.CorrelationId, run.TenantId, run.Agent, run.Step, guidance, run.MaxSteps, run.Deadline));
        await c.Publish(ContextRequest(run, verdict) with { Guidance = guidance });
    }

    private static RunCompleted ClosedMessage(AgentRunState run, TimeProvider clock) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.Answer ?? "", run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost, run.ClosedBy);

    private static void StartFaulted(AgentRunState run, RunFaulted fault, TimeProvider clock)
    {
        run.TenantId = string.IsNullOrWhiteSpace(fault.TenantId) ? ServiceDefaults.Extensions.DefaultTenant : fault.TenantId;
        run.StartedAt = clock.GetUtcNow();
    }

    private static bool IsCurrent(BehaviorContext<AgentRunState, GoalEvaluated> c) => c.Message.Step == c.Saga.Step;

    private static bool IsContinue(GoalEvaluated verdict) => verdict.Verdict is Verdict.Continue or Verdict.Replan;

    /// Why a proposal cannot be accepted: the planning call's error, or a plan that was asked for and is missing.
    private static string? Problem(AgentRunState run, StepProposed proposal) =>
        proposal.Error
        ?? (Deserialize<PlanRequest>(run.PlanRequestJson) is { Action: PlanAction.MakePlan or PlanAction.Replan } && proposal.Plan is null
            ? "the planning call returned no plan."
            : null);

    private static GoalEvaluated PendingVerdict(AgentRunState run) => Deserialize<GoalEvaluated>(run.PendingVerdictJson)!;

    /// Why the plan must be revised, or null: a call of the step failed, or the Evaluator asked.
    private static string? ReplanReason(ToolResult? result, GoalEvaluated verdict)
    {
        var failed = result?.Outcomes.Where(o => !o.Succeeded).ToList() ?? [];
        if (failed.Count > 0)
        {
            return string.Join("; ", failed.Select(o => $"the call {o.Tool} {o.Arguments.GetRawText()} failed ({o.ErrorKind}: {o.Error})")) + ".";
        }

        return verdict.Verdict == Verdict.Replan ? $"The Evaluator asked for a new plan: {verdict.Reason}" : null;
    }

    private static bool OverReplanLimit(AgentRunState run, ToolResult? result, GoalEvaluated verdict) =>
        ReplanReason(result, verdict) is not null && run.Replans >= run.MaxReplans;

    private static string ReplanLimitReason(AgentRunState run, ToolResult? result, GoalEvaluated verdict) =>
        $"Re-plan limit reached: the plan went wrong at step {run.Step} after {run.Replans} re-plan(s), the most allowed ({run.MaxReplans}): {ReplanReason(result, verdict)}";

    /// Chooses the next step's work, then asks for its context: a re-plan when the step went wrong,
    /// else the next wave of the plan, or the answer when no step is left.
    private static Task AdvancePlan<T>(BehaviorContext<AgentRunState, T> c, ToolResult? result, GoalEvaluated verdict)
        where T : class
    {
        var run = c.Saga;
        var plan = Deserialize<Plan>(run.PlanJson)!;
        PlanRequest next;
        if (ReplanReason(result, verdict) is { } reason)
        {
            run.Replans++;
            next = new PlanRequest(PlanAction.Replan, plan, Reason: reason);
        }
        else
        {
            run.PlanStepsDone = [.. run.PlanStepsDone.Union(run.PlanStepsRunning).Order()];
            var wave = PlanProgress.NextWave(plan, run.PlanStepsDone);
            next = wave.Count == 0 ? new PlanRequest(PlanAction.Answer, plan) : new PlanRequest(PlanAction.RunSteps, plan, wave);
        }

        run.PlanRequestJson = JsonSerializer.Serialize(next);
        var request = ContextRequest(run, verdict) with { Step = run.Step + 1 };
        run.Step++;
        return c.Publish(request);
    }

    private static bool OverTokenLimit(AgentRunState run, TokenUsage usage) =>
        run.InputTokens + run.OutputTokens + usage.Total > run.MaxTokens;

    // Spend over the limit ends the run; spend exactly at it does not, as with tokens.
    private static bool OverCostLimit(AgentRunState run, decimal cost) =>
        run.MaxCost is { } limit && run.TotalCost + cost > limit;

    private static bool WithinLimits(AgentRunState run, StepProposed proposal) =>
        !OverTokenLimit(run, proposal.Usage) && !OverCostLimit(run, proposal.Cost);

    private static void AddUsage(AgentRunState run, TokenUsage usage, decimal cost)
    {
        run.InputTokens += usage.InputTokens;
        run.OutputTokens += usage.OutputTokens;
        run.TotalCost += cost;
    }

    // A verdict is accepted once per step (its transitions leave the state that accepts it), so a
    // judge's usage is counted once.
    private static void Remember(AgentRunState run, GoalEvaluated verdict)
    {
        AddUsage(run, verdict.Usage ?? TokenUsage.None, verdict.Cost);
        run.LastVerdict = verdict.Verdict.ToString();
        run.LastReason = verdict.Reason;
    }

    private static TokenUsage Usage(AgentRunState run) => new(run.InputTokens, run.OutputTokens);

    private static JsonElement? Input(AgentRunState run) =>
        run.InputJson is null ? null : JsonDocument.Parse(run.InputJson).RootElement.Clone();

    private static Task RequestContext<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Publish(ContextRequest(c.Saga, previousVerdict: null));

    /// Moves to the next step and asks for its context, carrying the step just judged.
    private static Task RequestNextContext(BehaviorContext<AgentRunState, GoalEvaluated> c)
    {
        var request = ContextRequest(c.Saga, c.Message) with { Step = c.Saga.Step + 1 };
        c.Saga.Step++;
        return c.Publish(request);
    }

    private static ContextRequested ContextRequest(AgentRunState run, GoalEvaluated? previousVerdict) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.Step, run.Goal, Input(run),
            previousVerdict is null ? null : Deserialize<StepPlanned>(run.PlannedStepJson),
            previousVerdict is null ? null : Deserialize<ToolResult>(run.ToolResultJson),
            previousVerdict,
            Deserialize<PlanRequest>(run.PlanRequestJson),
            run.UserId);

    private static T? Deserialize<T>(string? json)
        where T : class =>
        json is null ? null : JsonSerializer.Deserialize<T>(json);

    private static Task PublishStep(BehaviorContext<AgentRunState, StepProposed> c)
    {
        var step = Accept(c);
        c.Saga.PlannedStepJson = JsonSerializer.Serialize(step);
        c.Saga.ToolResultJson = null;
        c.Saga.PendingVerdictJson = null;
        if (c.Saga.PlanAndExecute)
        {
            TrackPlan(c.Saga, step);
        }

        return c.Publish(step);
    }

    /// Which plan steps the accepted step runs. A new plan starts from nothing done, with the same
    /// first wave the planning call computed (PlanProgress is shared).
    private static void TrackPlan(AgentRunState run, StepPlanned step)
    {
        var request = Deserialize<PlanRequest>(run.PlanRequestJson)!;
        if (step.Plan is { } plan)
        {
            run.PlanJson = JsonSerializer.Serialize(plan);
            run.PlanStepsDone = [];
            run.PlanStepsRunning = [.. PlanProgress.NextWave(plan, [])];
        }
        else
        {
            run.PlanStepsRunning = request.Action == PlanAction.RunSteps ? [.. request.Steps ?? []] : [];
        }
    }

    /// The proposed calls whose tool's policy says a person must approve them.
    private static List<ToolCall> NeedingApproval(AgentCatalog agents, BehaviorContext<AgentRunState, StepProposed> c) =>
        agents.Find(c.Saga.Agent) is { } agent
            ? [.. c.Message.ToolCalls.Where(call => agent.PolicyOf(call.Tool)?.NeedsApproval == true)]
            : [];

    /// Accepts the step as PublishStep would, but holds it back and asks for approval of the calls
    /// that need it, with a durable deadline for the agent's approval timeout.
    private static async Task RequestApproval(BehaviorContext<AgentRunState, StepProposed> c, AgentCatalog agents, IRunDeadlines deadlines, TimeProvider clock)
    {
        var agent = agents.Find(c.Saga.Agent)!;
        var step = Accept(c);
        c.Saga.PlannedStepJson = JsonSerializer.Serialize(step);
        c.Saga.ToolResultJson = null;
        c.Saga.PendingVerdictJson = null;
        if (c.Saga.PlanAndExecute)
        {
            TrackPlan(c.Saga, step);
        }

        c.Saga.Approvals = [.. NeedingApproval(agents, c).Select(call => new PendingApproval(call.CallId, call.Tool))];
        // Whole milliseconds: the deadline store keeps milliseconds, and the deadline it hands back
        // must equal this one to be recognised.
        var expires = DateTimeOffset.FromUnixTimeMilliseconds((clock.GetUtcNow() + agent.Approval.Timeout).ToUnixTimeMilliseconds());
        c.Saga.ApprovalExpiresAt = expires;
        c.Saga.ApprovalOnTimeout = agent.Approval.OnTimeout;
        await deadlines.SetAsync(new RunDeadline(c.Saga.CorrelationId, c.Saga.TenantId, expires, DeadlineMonitor.CurrentTraceParent(), DeadlineKind.Approval), c.CancellationToken);
        await c.Publish(ApprovalRequest(c.Saga));
    }

    private static ApprovalRequested ApprovalRequest(AgentRunState run)
    {
        var step = Deserialize<StepPlanned>(run.PlannedStepJson)!;
        var waiting = run.Approvals.Select(a => a.CallId).ToHashSet();
        return new ApprovalRequested(
            run.CorrelationId, run.TenantId, run.Agent, run.Step,
            [.. step.ToolCalls.Where(call => waiting.Contains(call.CallId))],
            run.ApprovalExpiresAt!.Value, run.ApprovalOnTimeout.ToString(), step.Thought, run.Goal);
    }

    private static bool IsWaiting(AgentRunState run, string callId) =>
        run.Approvals.Any(a => a.CallId == callId && a.Approved is null);

    private static void Decide(AgentRunState run, string callId, bool approved, string decidedBy, string? comment) =>
        run.Approvals = [.. run.Approvals.Select(a => a.CallId == callId ? a with { Approved = approved, DecidedBy = decidedBy, Comment = comment } : a)];

    /// Denies every call still waiting, and tells Memory (the read model of approvals) so.
    private static async Task TimeOutApprovals<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        var comment = $"No decision by {c.Saga.ApprovalExpiresAt!.Value.ToString("u", CultureInfo.InvariantCulture)}.";
        foreach (var waiting in c.Saga.Approvals.Where(a => a.Approved is null).ToList())
        {
            Decide(c.Saga, waiting.CallId, approved: false, ApprovalTimeoutDecider, comment);
            await c.Publish(new ApprovalDecided(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Step, waiting.CallId, Approved: false, ApprovalTimeoutDecider, comment));
        }
    }

    private static string ApprovalTimeoutReason(AgentRunState run, TimeProvider clock)
    {
        var tools = string.Join(", ", run.Approvals.Where(a => a.DecidedBy == ApprovalTimeoutDecider).Select(a => $"{a.Tool} ({a.CallId})"));
        return $"Approval timed out: nobody decided on {tools} at step {run.Step} by {run.ApprovalExpiresAt!.Value.ToString("u", CultureInfo.InvariantCulture)}; the agent's approval policy escalates on timeout.";
    }

    /// Sends the held step to the ToolExecutor: approved calls run, denied ones come back to the
    /// model as PermissionDenied outcomes carrying who denied them and why.
    private static async Task ReleaseStep<T>(BehaviorContext<AgentRunState, T> c, IRunDeadlines deadlines)
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

    private static string DenialText(PendingApproval decision)
    {
        var comment = string.IsNullOrWhiteSpace(decision.Comment) ? "" : $": {decision.Comment.Trim()}";
        return decision.DecidedBy == ApprovalTimeoutDecider
            ? $"Denied: nobody decided on this call before its approval timed out ({decision.Comment?.Trim()})."
            : $"Denied by {decision.DecidedBy}{comment}";
    }

    private static Task RepublishStep<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Saga.PlannedStepJson is { } json ? c.Publish(JsonSerializer.Deserialize<StepPlanned>(json)!) : Task.CompletedTask;

    private static StepPlanned Accept(BehaviorContext<AgentRunState, StepProposed> c) =>
        new(
            c.Saga.CorrelationId,
            c.Saga.TenantId,
            c.Saga.Agent,
            c.Saga.Step,
            c.Saga.MaxSteps,
            c.Message.Thought,
            c.Message.ToolCalls,
            c.Message.ToolCalls.Count == 0 ? c.Message.FinalAnswer ?? "" : null,
            c.Message.Usage,
            c.Message.Model,
            c.Message.CacheHit,
            c.Saga.PlanAndExecute && Deserialize<PlanRequest>(c.Saga.PlanRequestJson) is { Action: PlanAction.MakePlan or PlanAction.Replan } ? c.Message.Plan : null,
            c.Message.Cost,
            c.Saga.Goal,
            UserId: c.Saga.UserId);

    private static async Task Complete(BehaviorContext<AgentRunState, GoalEvaluated> c, IRunDeadlines deadlines, TimeProvider clock)
    {
        c.Saga.Answer = c.Message.FinalAnswer ?? "";
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await c.Publish(new RunCompleted(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Agent, c.Saga.Answer, c.Saga.Step, Usage(c.Saga), clock.GetUtcNow() - c.Saga.StartedAt, c.Saga.TotalCost));
    }

    private static async Task Fail<T>(BehaviorContext<AgentRunState, T> c, string reason, IRunDeadlines deadlines, TimeProvider clock)
        where T : class
    {
        c.Saga.LastReason = reason;
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await c.Publish(FailedMessage(c.Saga, clock));
    }

    private static RunFailed FailedMessage(AgentRunState run, TimeProvider clock) =>
        new(run.CorrelationId, run.TenantId, run.Agent, run.LastReason ?? "", run.Step, Usage(run), clock.GetUtcNow() - run.StartedAt, run.TotalCost);

    private static async Task Escalate<T>(BehaviorContext<AgentRunState, T> c, string reason, IRunDeadlines deadlines, TimeProvider clock)
        where T : class
    {
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        var summary = $"Goal: {c.Saga.Goal}{Environment.NewLine}"
            + $"Agent: {c.Saga.Agent}, {c.Saga.Step} step(s), {c.Saga.InputTokens + c.Saga.OutputTokens} tokens, {ModelPrices.Format(c.Saga.TotalCost)}.{Environment.NewLine}"
            + $"Why it stopped: {reason}";
        await c.Publish(new RunEscalated(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Agent, reason, summary, c.Saga.Step, Usage(c.Saga), clock.GetUtcNow() - c.Saga.StartedAt, c.Saga.TotalCost));
    }

    private static async Task Cancel<T>(BehaviorContext<AgentRunState, T> c, string reason, IRunDeadlines deadlines, TimeProvider clock)
        where T : class
    {
        await deadlines.RemoveAsync(c.Saga.CorrelationId, c.CancellationToken);
        await c.Publish(new RunCancelled(c.Saga.CorrelationId, c.Saga.TenantId, c.Saga.Agent, reason, c.Saga.Step, Usage(c.Saga), clock.GetUtcNow() - c.Saga.StartedAt, c.Saga.TotalCost));
    }

    private static string Describe(TimeSpan duration) =>
        duration.TotalSeconds < 120
            ? $"{duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)}m";
}
