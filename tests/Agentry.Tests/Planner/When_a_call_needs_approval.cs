using Agentry.Contracts;
using Agentry.Planner.StateMachines;
using Agentry.Agents;

namespace Agentry.Tests.Planner;

/// The saga's side of human approval: the step waits in AwaitingApproval until every call that needs
/// approval is decided (or the approval times out), then goes to the ToolExecutor with denials settled.
public sealed class When_a_call_needs_approval : AgentRunSagaFixture
{
    private static readonly ToolCall Refund = new("call_refund", "http_get", Json("""{"url":"https://shop.example.com/refund/42"}"""));
    private static readonly ToolCall Sum = new("call_sum", "calculator", Json("""{"expression":"2 + 3"}"""));
    private static readonly ToolCall Time = new("call_time", "current_time", Json("{}"));

    protected override AgentCatalog Agents => TestAgents.Catalog(Clerk("clerk", "deny"), Clerk("strict-clerk", "escalate"));

    private static AgentDefinition Clerk(string name, string onTimeout) =>
        TestAgents.Parse(name, $"""
            instructions: Help the customer.
            tools:
              - name: http_get
                needs_approval: true
              - name: calculator
                needs_approval: true
              - current_time
            approval:
              timeout: 10m
              on_timeout: {onTimeout}
            limits:
              deadline: 1h
            """);

    private async Task<Guid> StartWaiting(string agent = "clerk", params ToolCall[] calls)
    {
        var runId = await StartRun("Refund order 42", agent);
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await Harness.Bus.Publish(Propose(runId, calls.Length == 0 ? [Refund, Time] : calls));
        Assert.That(await Saga.Exists(runId, m => m.AwaitingApproval), Is.EqualTo(runId), "the run did not wait for approval");
        return runId;
    }

    private static StepProposed Propose(Guid runId, IReadOnlyList<ToolCall> calls) =>
        new(runId, Tenant, 1, "The customer asked for a refund.", calls, null, new TokenUsage(10, 5), "test-model");

    private static ApprovalDecided Decision(Guid runId, string callId, bool approved, string by = "alice", string? comment = null, int step = 1) =>
        new(runId, Tenant, step, callId, approved, by, comment);

    /// After Quiet() the harness counts as inactive for good and its Any() stops waiting: this waits
    /// on the published messages themselves.
    private async Task<T> PublishedLater<T>(Func<T, bool> filter)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!PublishedMessages(filter).Any())
        {
            await Task.Delay(20, timeout.Token);
        }

        return PublishedMessages(filter).Single();
    }

    [Test]
    public async Task Should_hold_the_step_and_ask_for_approval_of_the_calls_that_need_it()
    {
        var runId = await StartWaiting();

        var request = await PublishedOne<ApprovalRequested>(m => m.RunId == runId);
        Assert.That(request.Calls.Select(c => c.CallId), Is.EqualTo(new[] { "call_refund" }), "only the call whose policy needs approval waits");
        Assert.That((request.Agent, request.Step, request.OnTimeout, request.Goal), Is.EqualTo(("clerk", 1, "Deny", "Refund order 42")));
        Assert.That(request.ExpiresAt, Is.EqualTo(Clock.GetUtcNow() + TimeSpan.FromMinutes(10)));
        await Quiet();
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty, "the step went to the ToolExecutor before approval");
    }

    [Test]
    public async Task Should_run_the_step_as_proposed_once_approved()
    {
        var runId = await StartWaiting();

        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: true));

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var step = await PublishedOne<StepPlanned>(m => m.RunId == runId);
        Assert.That(step.ToolCalls.Select(c => c.CallId), Is.EqualTo(new[] { "call_refund", "call_time" }));
        Assert.That(step.DecidedOutcomes, Is.Null);
        Assert.That(await Deadlines.TakeDueAsync(Clock.GetUtcNow() + TimeSpan.FromMinutes(11), 10, CancellationToken.None),
            Has.None.Matches<Agentry.Planner.Deadlines.RunDeadline>(d => d.Kind == Agentry.Planner.Deadlines.DeadlineKind.Approval), "the approval deadline outlived the decision");
    }

    [Test]
    public async Task Should_wait_for_every_call_and_hand_a_denied_one_back_as_permission_denied()
    {
        var runId = await StartWaiting("clerk", Refund, Sum);

        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: false, comment: "not for this customer"));
        await Quiet();
        Assert.That(await Saga.Exists(runId, m => m.AwaitingApproval), Is.EqualTo(runId), "the step went on with a call undecided");
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty);

        await Harness.Bus.Publish(Decision(runId, "call_sum", approved: true, by: "bob"));

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var step = await PublishedOne<StepPlanned>(m => m.RunId == runId);
        Assert.That(step.ToolCalls.Select(c => c.CallId), Is.EqualTo(new[] { "call_refund", "call_sum" }), "the model's calls must all be answered");
        var denied = step.DecidedOutcomes!.Single();
        Assert.That((denied.CallId, denied.Tool, denied.ErrorKind, denied.Error), Is.EqualTo(("call_refund", "http_get", ToolErrorKind.PermissionDenied, "Denied by alice: not for this customer")));
    }

    [Test]
    public async Task Should_keep_the_first_decision_of_a_call()
    {
        var runId = await StartWaiting("clerk", Refund, Sum);

        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: false, comment: "no"));
        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: true, by: "mallory"));
        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: false, comment: "no"));
        await Quiet();
        Assert.That(await Saga.Exists(runId, m => m.AwaitingApproval), Is.EqualTo(runId), "a duplicate decision counted for the other call");

        await Harness.Bus.Publish(Decision(runId, "call_sum", approved: true));
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var step = await PublishedLater<StepPlanned>(m => m.RunId == runId);
        Assert.That(step.DecidedOutcomes!.Single().CallId, Is.EqualTo("call_refund"), "a later approval overturned the denial");
    }

    [Test]
    public async Task Should_republish_the_released_step_when_the_last_decision_is_delivered_again()
    {
        var runId = await StartWaiting();
        var decision = Decision(runId, "call_refund", approved: true);

        await Harness.Bus.Publish(decision);
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        await Harness.Bus.Publish(decision);
        await Harness.Bus.Publish(decision with { Approved = false, DecidedBy = "mallory" });
        await Quiet();

        // The redelivery may follow a crash that lost the first StepPlanned; the contradicting late decision changes nothing.
        var published = PublishedMessages<StepPlanned>(m => m.RunId == runId).ToList();
        Assert.That(published, Has.Count.EqualTo(2));
        Assert.That(published.Select(s => s.DecidedOutcomes), Is.All.Null);
        Assert.That(Saga.Sagas.Contains(runId)!.CurrentState, Is.EqualTo("Acting"));
    }

    [Test]
    public async Task Should_ignore_a_decision_for_an_unknown_call_or_another_step()
    {
        var runId = await StartWaiting();

        await Harness.Bus.Publish(Decision(runId, "call_nobody_made", approved: true));
        await Harness.Bus.Publish(Decision(runId, "call_time", approved: false));
        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: true, step: 2));
        await Quiet();

        Assert.That(await Saga.Exists(runId, m => m.AwaitingApproval), Is.EqualTo(runId));
        Assert.That(Saga.Sagas.Contains(runId)!.Approvals.Single(), Is.EqualTo(new PendingApproval("call_refund", "http_get")));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_ask_again_when_the_proposal_is_delivered_again()
    {
        var runId = await StartWaiting();
        var first = await PublishedOne<ApprovalRequested>(m => m.RunId == runId);

        await Harness.Bus.Publish(Propose(runId, [Refund, Time]));
        await Quiet();

        var requests = PublishedMessages<ApprovalRequested>(m => m.RunId == runId).ToList();
        Assert.That(requests, Has.Count.EqualTo(2));
        Assert.That(requests[1].Calls.Single().CallId, Is.EqualTo(first.Calls.Single().CallId));
        Assert.That(requests[1].ExpiresAt, Is.EqualTo(first.ExpiresAt));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That(run.InputTokens + run.OutputTokens, Is.EqualTo(15), "tokens were counted twice");
    }

    [Test]
    public async Task Should_deny_the_undecided_calls_when_the_approval_times_out_and_the_policy_says_deny()
    {
        var runId = await StartWaiting("clerk", Refund, Sum);
        await Harness.Bus.Publish(Decision(runId, "call_sum", approved: true));
        await Quiet();

        Clock.Advance(TimeSpan.FromMinutes(9));
        await DeadlineMonitor().PublishDueAsync(CancellationToken.None);
        await Quiet();
        Assert.That(await Saga.Exists(runId, m => m.AwaitingApproval), Is.EqualTo(runId), "the approval timed out early");

        Clock.Advance(TimeSpan.FromMinutes(1));
        await DeadlineMonitor().PublishDueAsync(CancellationToken.None);

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var step = await PublishedLater<StepPlanned>(m => m.RunId == runId);
        var denied = step.DecidedOutcomes!.Single();
        Assert.That((denied.CallId, denied.ErrorKind), Is.EqualTo(("call_refund", ToolErrorKind.PermissionDenied)));
        Assert.That(denied.Error, Does.StartWith("Denied: nobody decided on this call before its approval timed out"));
        // Memory keeps the approvals' read model: it learns of the timeout as a decision.
        var recorded = await PublishedLater<ApprovalDecided>(m => m.RunId == runId && m.DecidedBy == RunApprovals.TimeoutDecider);
        Assert.That((recorded.CallId, recorded.Approved), Is.EqualTo(("call_refund", false)));

        await Harness.Bus.Publish(Decision(runId, "call_refund", approved: true));
        await Quiet();
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId).Count(), Is.EqualTo(1), "a decision after the timeout changed the step");
    }

    [Test]
    public async Task Should_escalate_when_the_approval_times_out_and_the_policy_says_escalate()
    {
        var runId = await StartWaiting("strict-clerk");

        Clock.Advance(TimeSpan.FromMinutes(10));
        await DeadlineMonitor().PublishDueAsync(CancellationToken.None);

        Assert.That(await Saga.Exists(runId, m => m.Escalated), Is.EqualTo(runId));
        var escalated = await PublishedOne<RunEscalated>(m => m.RunId == runId);
        Assert.That(escalated.Reason, Does.StartWith("Approval timed out: nobody decided on http_get (call_refund) at step 1"));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty, "the call ran without approval");
    }

    [Test]
    public async Task Should_still_fail_the_run_at_its_own_deadline()
    {
        var runId = await StartWaiting();

        await Harness.Bus.Publish(new RunDeadlineReached(runId, Tenant, Clock.GetUtcNow()));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Does.StartWith("Deadline passed: the run was still AwaitingApproval"));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_cancel_a_run_that_waits()
    {
        var runId = await StartWaiting();

        await Harness.Bus.Publish(new CancelRun(runId, Tenant, "customer withdrew"));

        Assert.That(await Saga.Exists(runId, m => m.Cancelled), Is.EqualTo(runId));
        Assert.That(await Deadlines.TakeDueAsync(Clock.GetUtcNow() + TimeSpan.FromDays(1), 10, CancellationToken.None), Is.Empty, "a deadline outlived the run");
    }

    [Test]
    public async Task Should_not_wait_when_no_proposed_call_needs_approval()
    {
        var runId = await StartRun("What time is it?", "clerk");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        await Harness.Bus.Publish(Propose(runId, [Time]));

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        Assert.That(PublishedMessages<ApprovalRequested>(m => m.RunId == runId), Is.Empty);
    }
}
