using System.Collections.Frozen;
using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Tenants;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using Agentry.ServiceDefaults.Payloads;
using MassTransit;
using Microsoft.Extensions.Options;
using static Agentry.Planner.StateMachines.RunLimits;
using static Agentry.Planner.StateMachines.RunSteps;

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

    public AgentRunStateMachine(
        PinnedAgents agents,
        IRunDeadlines deadlines,
        TimeProvider clock,
        IOptions<GoalBounds>? bounds = null,
        ITenantRunSlots? tenantSlots = null,
        IOptions<TenantOptions>? tenants = null,
        PayloadStore? payloads = null)
    {
        var start = new RunStart(agents.Catalog, bounds?.Value ?? GoalBounds.Default, clock);
        var slots = new RunSlots(tenantSlots ?? new InMemoryTenantRunSlots(clock), tenants?.Value ?? new TenantOptions());
        var end = new RunOutcomes(deadlines, slots, clock);
        var approvals = new RunApprovals(agents, deadlines, clock);
        var takeover = new RunTakeover(agents.Catalog, clock);
        var definitions = new RunDefinitions(agents, end);
        var lineages = new RunLineages(agents, end);

        InstanceState(x => x.CurrentState);
        this.ConnectEventObserver(new AgentRunTelemetry(clock));

        Event(() => GoalReceived, e => e.CorrelateById(c => c.Message.RunId));
        // The planning consumer acts on ContextLoaded and the saga takes its proposal in LoadingContext,
        // so the saga's queue is not bound to it: a delivery and a saga write a step saved
        // (docs/decisions/0030). Still handled, for a queue that keeps an earlier version's binding.
        Event(() => ContextLoaded, e =>
        {
            e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard());
            e.ConfigureConsumeTopology = false;
        });
        Event(() => StepProposed, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => ToolResult, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => GoalEvaluated, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        // A deadline outlives nothing but its run, so one without a run is worth a warning: the run's
        // state was lost (Redis without persistence) or another deployment shares this Redis and key
        // prefix and claimed it, and then that deployment's runs miss their deadlines.
        Event(() => DeadlineReached, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Execute(context =>
            LogContext.Warning?.Log(
                "The deadline of run {RunId} came due, but this Planner's saga store does not hold that run: its state was lost, or another deployment shares this Redis and Planner:Redis:KeyPrefix and claimed it. Give each deployment its own key prefix.",
                context.Message.RunId))));
        Event(() => CancelRequested, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => RunFaultReported, e => e.CorrelateById(c => c.Message.RunId));
        Event(() => ApprovalDecided, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => ApprovalDeadlineReached, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => ResumeRequested, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => CloseRequested, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));
        Event(() => MoveRequested, e => e.CorrelateById(c => c.Message.RunId).OnMissingInstance(m => m.Discard()));

        // Late and duplicated messages land here: the state they expected has passed.
        OnUnhandledEvent(x => x.Ignore());

        Initially(
            When(GoalReceived, c => start.Problem(c.Message) is not null)
                .Then(c => start.BeginRefused(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, start.Problem(c.Message)!))
                .TransitionTo(Failed),
            When(GoalReceived, c => start.Problem(c.Message) is null)
                .IfElseAsync(
                    c => slots.TryTake(c, start.DeadlineOf(c.Message)),
                    taken => taken
                        .Then(c => start.Begin(c.Saga, c.Message))
                        .ThenAsync(definitions.Pin)
                        .ThenAsync(lineages.Start)
                        .ThenAsync(c => RunStart.KeepInputOutOfLine(c.Saga, payloads, c.CancellationToken))
                        .ThenAsync(end.SetDeadline)
                        .ThenAsync(RequestContext)
                        .TransitionTo(LoadingContext),
                    // Its tenant's runs hold every slot: refused like a goal that cannot start.
                    refused => refused
                        .Then(c => start.BeginRefused(c.Saga, c.Message))
                        .ThenAsync(c => end.Fail(c, slots.RefusedReason(c.Saga.TenantId)))
                        .TransitionTo(Failed)),
            // The goal itself could not be read: the run is recorded as failed, with the reason.
            When(RunFaultReported)
                .Then(c => start.BeginFaulted(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, c.Message.Reason))
                .TransitionTo(Failed));

        During(LoadingContext,
            When(ContextLoaded, c => c.Message.Step == c.Saga.Step)
                .TransitionTo(Planning));

        // A replay's proposal redelivered after its step was accepted. Declared before the acceptance
        // below: the activities of one event run in order against the state as each leaves it, and this
        // must not see the step that the acceptance has just moved on.
        During(LoadingContext,
            When(StepProposed, c => RunLineages.IsReplay(c.Saga) && c.Message.Step == c.Saga.Step - 1 && c.Message.Error is null)
                .ThenAsync(RunLineages.Republish));

        // A run waits in LoadingContext while Memory assembles the context and the model plans; Planning
        // is entered only from an earlier version's binding of ContextLoaded (see above).
        During(LoadingContext, Planning,
            When(StepProposed, c => IsCurrent(c) && Problem(c.Saga, c.Message) is not null)
                .Then(c => AddUsage(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, $"The model could not plan step {c.Message.Step}: {Problem(c.Saga, c.Message)}"))
                .TransitionTo(Failed),
            When(StepProposed, c => IsAcceptable(c) && OverTokenLimit(c.Saga, c.Message))
                .Then(c => AddUsage(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, TokenLimitReason(c.Saga)))
                .TransitionTo(Failed),
            When(StepProposed, c => IsAcceptable(c) && !OverTokenLimit(c.Saga, c.Message) && OverCostLimit(c.Saga, c.Message))
                .Then(c => AddUsage(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, CostLimitReason(c.Saga)))
                .TransitionTo(Failed),
            // A replay's decision is recorded, never run, and the next step planned from the parent's history.
            When(StepProposed, c => IsAcceptable(c) && WithinLimits(c.Saga, c.Message) && RunLineages.IsReplay(c.Saga))
                .Then(c => AddUsage(c.Saga, c.Message))
                .IfElse(c => RunLineages.HasStepsLeft(c.Saga),
                    more => more.ThenAsync(RunLineages.Advance),
                    last => last.ThenAsync(lineages.Finish).TransitionTo(Completed)),
            // Calls go to the ToolExecutor, unless some need a person: then the accepted step waits.
            When(StepProposed, c => IsAcceptable(c) && WithinLimits(c.Saga, c.Message) && !RunLineages.IsReplay(c.Saga) && c.Message.ToolCalls.Count > 0)
                .Then(c => AddUsage(c.Saga, c.Message))
                .IfElseAsync(approvals.AnyNeeded,
                    held => held.ThenAsync(c => approvals.Hold(c, RunSteps.Accept(c))).TransitionTo(AwaitingApproval),
                    released => released.ThenAsync(PublishStep).TransitionTo(Acting)),
            When(StepProposed, c => IsAcceptable(c) && WithinLimits(c.Saga, c.Message) && !RunLineages.IsReplay(c.Saga) && c.Message.ToolCalls.Count == 0)
                .Then(c => AddUsage(c.Saga, c.Message))
                .ThenAsync(PublishStep)
                .TransitionTo(Evaluating));

        // Each waiting call is decided once; the first decision wins, and a decision for a call that
        // is not waiting (unknown, already decided, another step) changes nothing. Once all are
        // decided, the step goes to the ToolExecutor with the denied calls' outcomes settled.
        During(AwaitingApproval,
            When(ApprovalDecided, c => c.Message.Step == c.Saga.Step && RunApprovals.IsWaiting(c.Saga, c.Message.CallId))
                .Then(c => RunApprovals.Decide(c.Saga, c.Message))
                .IfElse(
                    c => RunApprovals.AllDecided(c.Saga),
                    decided => decided.ThenAsync(approvals.Release).TransitionTo(Acting),
                    waiting => waiting),
            When(ApprovalDeadlineReached, c => RunApprovals.IsDue(c.Saga, c.Message, ApprovalTimeoutAction.Deny))
                .ThenAsync(RunApprovals.TimeOut)
                .ThenAsync(approvals.Release)
                .TransitionTo(Acting),
            When(ApprovalDeadlineReached, c => RunApprovals.IsDue(c.Saga, c.Message, ApprovalTimeoutAction.Escalate))
                .ThenAsync(RunApprovals.TimeOut)
                .ThenAsync(c => end.Escalate(c, RunApprovals.TimeoutReason(c.Saga)))
                .TransitionTo(Escalated),
            // Redelivered: the proposal was accepted and approval asked for; ask again.
            When(StepProposed, c => IsCurrent(c) && c.Message.Error is null)
                .ThenAsync(RunApprovals.RequestAgain));

        // A redelivered last decision finds the step released: release it again (the ToolExecutor
        // runs each call once). The saga's own timeout decisions come back here too and need nothing.
        During(Acting,
            When(ApprovalDecided, c => c.Message.Step == c.Saga.Step && RunApprovals.IsApplied(c.Saga, c.Message))
                .ThenAsync(RepublishStep));

        During(Acting,
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is null)
                .Then(c => RecordResults(c.Saga, c.Message))
                .TransitionTo(Evaluating),
            // A plan-and-execute verdict that came first was waiting for these results.
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is not null
                    && RunPlans.OverReplanLimit(c.Saga, c.Message, RunPlans.PendingVerdict(c.Saga)))
                .Then(c => RecordResults(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, RunPlans.ReplanLimitReason(c.Saga, c.Message, RunPlans.PendingVerdict(c.Saga))))
                .TransitionTo(Failed),
            When(ToolResult, c => c.Message.Step == c.Saga.Step && c.Saga.PendingVerdictJson is not null
                    && !RunPlans.OverReplanLimit(c.Saga, c.Message, RunPlans.PendingVerdict(c.Saga)))
                .Then(c => RecordResults(c.Saga, c.Message))
                .ThenAsync(definitions.ApplyMove)
                .ThenAsync(c => RunPlans.Advance(c, c.Message, RunPlans.PendingVerdict(c.Saga)))
                .TransitionTo(LoadingContext));

        // Redelivered triggers. A Planner can die after saving a transition and before its messages
        // went out; the redelivered trigger then finds the run already moved on. Republishing what
        // the transition published (downstream consumers are idempotent) keeps the run going.
        During(LoadingContext,
            When(GoalReceived, c => c.Saga.Step == 1)
                .ThenAsync(RequestContext),
            When(GoalEvaluated, c => c.Message.Step == c.Saga.Step - 1 && IsContinue(c.Message))
                .ThenAsync(c => c.Publish(RunMessages.ContextRequest(c.Saga, c.Message))),
            When(ToolResult, c => c.Message.Step == c.Saga.Step - 1 && c.Saga.PlanAndExecute && c.Saga.PendingVerdictJson is not null)
                .ThenAsync(c => c.Publish(RunMessages.ContextRequest(c.Saga, RunPlans.PendingVerdict(c.Saga)))));
        During(Acting, Evaluating,
            When(StepProposed, c => IsCurrent(c) && c.Message.Error is null)
                .ThenAsync(RepublishStep));
        During(Completed,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Complete)
                .ThenAsync(c => RunMessages.PublishEnd(c, RunMessages.Completed(c.Saga, clock))));
        During(Failed,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict is Verdict.Fail or Verdict.Continue or Verdict.Replan)
                .ThenAsync(c => RunMessages.PublishEnd(c, RunMessages.Failed(c.Saga, clock))),
            When(GoalReceived)
                .ThenAsync(c => RunMessages.PublishEnd(c, RunMessages.Failed(c.Saga, clock))));
        During(Escalated,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Escalate)
                .ThenAsync(c => end.Escalate(c, c.Saga.LastReason ?? c.Message.Reason)));
        During(LoadingContext,
            When(ResumeRequested, c => c.Saga.ResumedAtStep == c.Saga.Step && RunTakeover.IsTheResume(c.Saga, c.Message))
                .ThenAsync(RunMessages.PublishResume));
        During(Completed,
            When(CloseRequested, c => RunTakeover.IsTheClose(c.Saga, c.Message))
                .ThenAsync(c => RunMessages.PublishEnd(c, RunMessages.Closed(c.Saga, clock))));

        // Escalated waits for a person: resumed with guidance, closed with a resolution, or
        // cancelled. An empty guidance or resolution (a raw publisher; the Gateway refuses them)
        // changes nothing.
        During(Escalated,
            When(ResumeRequested, c => RunTakeover.StillAt(c.Saga, c.Message.AtStep) && !string.IsNullOrWhiteSpace(c.Message.Guidance))
                .Then(c => takeover.Resume(c.Saga, c.Message))
                .ThenAsync(definitions.ApplyMove)
                .ThenAsync(end.SetDeadline)
                .ThenAsync(slots.Renew)
                .ThenAsync(RunMessages.PublishResume)
                .TransitionTo(LoadingContext),
            When(CloseRequested, c => RunTakeover.StillAt(c.Saga, c.Message.AtStep) && !string.IsNullOrWhiteSpace(c.Message.Resolution))
                .Then(c => RunTakeover.Close(c.Saga, c.Message))
                .ThenAsync(end.Close)
                .TransitionTo(Completed),
            When(CancelRequested)
                .ThenAsync(c => end.Cancel(c, c.Message.Reason))
                .TransitionTo(Cancelled));

        // The Evaluator reads ToolResult too, so its verdict can overtake the saga's own ToolResult.
        During(Acting, Evaluating,
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Complete)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(end.Complete)
                .TransitionTo(Completed),
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Escalate)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => end.Escalate(c, c.Message.Reason))
                .TransitionTo(Escalated),
            When(GoalEvaluated, c => IsCurrent(c) && c.Message.Verdict == Verdict.Fail)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, c.Message.Reason))
                .TransitionTo(Failed),
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && !HasStepsLeft(c.Saga))
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, StepLimitReason(c.Saga)))
                .TransitionTo(Failed),
            // ReAct: a Replan verdict means the same as Continue.
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && HasStepsLeft(c.Saga) && !c.Saga.PlanAndExecute)
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(definitions.ApplyMove)
                .ThenAsync(RequestNextContext)
                .TransitionTo(LoadingContext));

        // Plan-and-execute: the next wave, the answer or a re-plan, decided with the step's results.
        During(Acting,
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && HasStepsLeft(c.Saga) && c.Saga.PlanAndExecute)
                .Then(c => Remember(c.Saga, c.Message))
                .Then(c => RunPlans.HoldVerdict(c.Saga, c.Message)));
        During(Evaluating,
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && HasStepsLeft(c.Saga) && c.Saga.PlanAndExecute
                    && RunPlans.OverReplanLimit(c.Saga, RunPlans.Results(c.Saga), c.Message))
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(c => end.Fail(c, RunPlans.ReplanLimitReason(c.Saga, RunPlans.Results(c.Saga), c.Message)))
                .TransitionTo(Failed),
            When(GoalEvaluated, c => IsCurrent(c) && IsContinue(c.Message) && HasStepsLeft(c.Saga) && c.Saga.PlanAndExecute
                    && !RunPlans.OverReplanLimit(c.Saga, RunPlans.Results(c.Saga), c.Message))
                .Then(c => Remember(c.Saga, c.Message))
                .ThenAsync(definitions.ApplyMove)
                .ThenAsync(c => RunPlans.Advance(c, RunPlans.Results(c.Saga), c.Message))
                .TransitionTo(LoadingContext));

        // An operator's move to the current definition waits for the next step boundary (RunDefinitions).
        During([LoadingContext, Planning, Acting, AwaitingApproval, Evaluating, Escalated],
            When(MoveRequested, c => RunDefinitions.IsNewMove(c.Saga, c.Message))
                .Then(c => RunDefinitions.Request(c.Saga, c.Message)));

        // The run's own deadline, a cancel and a fault end the run in every active state.
        During([LoadingContext, Planning, Acting, AwaitingApproval, Evaluating],
            When(DeadlineReached)
                .ThenAsync(c => end.Fail(c, DeadlineReason(c.Saga, c.Message)))
                .TransitionTo(Failed),
            When(CancelRequested)
                .ThenAsync(c => end.Cancel(c, c.Message.Reason))
                .TransitionTo(Cancelled),
            // A context that did not fit may have cost a summary first: it counts.
            When(RunFaultReported)
                .Then(c => AddUsage(c.Saga, c.Message.Usage ?? TokenUsage.None, c.Message.Cost))
                .ThenAsync(c => end.Fail(c, c.Message.Reason))
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
    public Event<ResumeRun> ResumeRequested { get; private set; } = null!;
    public Event<CloseRun> CloseRequested { get; private set; } = null!;
    public Event<MoveRunDefinition> MoveRequested { get; private set; } = null!;
}
