using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The contract for approvals, on every backend.
public sealed partial class When_a_store_keeps_memory
{
    private static ApprovalRequested Approval(Guid run, string tenant, int step, params string[] callIds) =>
        new(run, tenant, "clerk", step, [.. callIds.Select(id => new ToolCall(id, "http_post", Json("""{"url":"https://shop.example.com/refunds","body":{"order":42}}""")))],
            At.AddMinutes(30), "Deny", "Refund it", "Refund order 42");

    [Test]
    public async Task Should_list_a_tenants_waiting_calls_until_each_is_decided_once()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var (transcripts, approvals) = (Store.Transcripts, Store.Approvals);
        foreach (var run in new[] { first, second })
        {
            await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);
        }

        await approvals.RecordApprovalRequestedAsync(Approval(second, tenant, 2, "c-b"), At.AddMinutes(2), None);
        await approvals.RecordApprovalRequestedAsync(Approval(first, tenant, 1, "c-a1", "c-a2"), At.AddMinutes(1), None);
        await approvals.RecordApprovalRequestedAsync(Approval(first, tenant, 1, "c-a1", "c-a2"), At.AddMinutes(3), None);

        var pending = await approvals.PendingApprovalsAsync(tenant, None);
        Assert.That(pending.Select(a => a.CallId), Is.EqualTo(new[] { "c-a1", "c-a2", "c-b" }), "oldest first, a redelivered request once");
        var one = pending[0];
        Assert.That((one.RunId, one.TenantId, one.Agent, one.Step, one.Tool, one.RequestedAt, one.ExpiresAt, one.Approved),
            Is.EqualTo((first, tenant, "clerk", 1, "http_post", At.AddMinutes(1), At.AddMinutes(30), (bool?)null)));
        Assert.That(one.Arguments.GetProperty("body").GetProperty("order").GetInt32(), Is.EqualTo(42));
        Assert.That(await approvals.PendingApprovalsAsync($"other-{tenant}", None), Is.Empty, "another tenant saw the calls");

        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(first, tenant, 1, "c-a1", false, "alice", "not for this customer"), At.AddMinutes(4), None);
        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(first, tenant, 1, "c-a1", true, "mallory"), At.AddMinutes(5), None);

        Assert.That((await approvals.PendingApprovalsAsync(tenant, None)).Select(a => a.CallId), Is.EqualTo(new[] { "c-a2", "c-b" }));
        var view = await transcripts.GetAsync(tenant, first, None);
        Assert.That(view.Approvals!.Select(a => (a.CallId, a.Approved, a.DecidedBy, a.Comment, a.DecidedAt)), Is.EqualTo(new[]
        {
            ("c-a1", (bool?)false, (string?)"alice", (string?)"not for this customer", (DateTimeOffset?)At.AddMinutes(4)),
            ("c-a2", null, null, null, null),
        }), "a second decision replaced the first");
    }

    [Test]
    public async Task Should_keep_a_decision_that_arrives_before_its_request_and_drop_calls_of_ended_runs()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var (decidedEarly, ended) = (Guid.NewGuid(), Guid.NewGuid());
        var (transcripts, approvals) = (Store.Transcripts, Store.Approvals);
        await transcripts.StartRunAsync(new RunStart(decidedEarly, tenant, "clerk", "goal", null, At), None);
        await transcripts.StartRunAsync(new RunStart(ended, tenant, "clerk", "goal", null, At), None);

        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(decidedEarly, tenant, 1, "c-1", true, "bob", "fine"), At.AddMinutes(1), None);
        Assert.That((await transcripts.GetAsync(decidedEarly, None)).Approvals, Is.Null, "a decision alone is not shown as an approval");
        await approvals.RecordApprovalRequestedAsync(Approval(decidedEarly, tenant, 1, "c-1"), At, None);
        await approvals.RecordApprovalRequestedAsync(Approval(ended, tenant, 1, "c-2"), At, None);
        await transcripts.EndRunAsync(new RunEnd(ended, tenant, "clerk", RunStatus.Cancelled, null, "stopped", 1, new TokenUsage(1, 1), At.AddMinutes(2)), None);

        Assert.That(await approvals.PendingApprovalsAsync(tenant, None), Is.Empty);
        var early = (await transcripts.GetAsync(decidedEarly, None)).Approvals!.Single();
        Assert.That((early.Tool, early.Approved, early.DecidedBy, early.RequestedAt), Is.EqualTo(("http_post", (bool?)true, (string?)"bob", At)));
        Assert.That((await transcripts.GetAsync(ended, None)).Approvals!.Single().Approved, Is.Null, "the record keeps that nobody decided");
    }

    [Test]
    public async Task Should_keep_the_latest_assignment_of_a_waiting_call_and_none_once_it_is_decided()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var run = Guid.NewGuid();
        var (transcripts, approvals) = (Store.Transcripts, Store.Approvals);
        await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);
        await approvals.RecordApprovalRequestedAsync(Approval(run, tenant, 1, "c-1", "c-2"), At, None);

        // Delivered out of order: the later assignment (bob's) wins.
        await approvals.RecordApprovalAssignedAsync(new ApprovalAssigned(run, tenant, 1, "c-1", "bob", "lead", At.AddMinutes(2)), None);
        await approvals.RecordApprovalAssignedAsync(new ApprovalAssigned(run, tenant, 1, "c-1", "alice", "lead", At.AddMinutes(1)), None);
        await approvals.RecordApprovalAssignedAsync(new ApprovalAssigned(run, $"other-{tenant}", 1, "c-2", "mallory", "mallory", At.AddMinutes(1)), None);

        var pending = await approvals.PendingApprovalsAsync(tenant, None);
        Assert.That(pending.Select(a => (a.CallId, a.Assignee, a.AssignedBy, a.AssignedAt)), Is.EqualTo(new[]
        {
            ("c-1", (string?)"bob", (string?)"lead", (DateTimeOffset?)At.AddMinutes(2)),
            ("c-2", null, null, null),
        }), "another tenant cannot assign the call");

        await approvals.RecordApprovalAssignedAsync(new ApprovalAssigned(run, tenant, 1, "c-1", null, "bob", At.AddMinutes(3)), None);
        Assert.That((await approvals.PendingApprovalsAsync(tenant, None))[0].Assignee, Is.Null, "taken back");

        await approvals.RecordApprovalDecidedAsync(new ApprovalDecided(run, tenant, 1, "c-2", true, "carol"), At.AddMinutes(4), None);
        await approvals.RecordApprovalAssignedAsync(new ApprovalAssigned(run, tenant, 1, "c-2", "dave", "lead", At.AddMinutes(5)), None);
        var decided = (await transcripts.GetAsync(tenant, run, None)).Approvals!.Single(a => a.CallId == "c-2");
        Assert.That((decided.Approved, decided.Assignee), Is.EqualTo(((bool?)true, (string?)null)), "a decided call is no one's to decide");
    }

    [Test]
    public async Task Should_show_the_escalation_summary_only_while_the_run_waits_at_that_step()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var (early, run) = (Guid.NewGuid(), Guid.NewGuid());
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);

        // The summary may be recorded before the escalation itself.
        await transcripts.RecordEscalationSummaryAsync(new EscalationSummarized(early, tenant, 2, "Run needs a person: early"), None);
        await transcripts.EndRunAsync(new RunEnd(early, tenant, "clerk", RunStatus.Escalated, null, "loop", 2, new TokenUsage(1, 1), At), None);
        Assert.That((await transcripts.GetAsync(tenant, early, None)).EscalationSummary, Is.EqualTo("Run needs a person: early"));

        await transcripts.EndRunAsync(new RunEnd(run, tenant, "clerk", RunStatus.Escalated, null, "loop", 2, new TokenUsage(1, 1), At), None);
        await transcripts.RecordEscalationSummaryAsync(new EscalationSummarized(run, tenant, 2, "first escalation"), None);
        Assert.That((await transcripts.GetAsync(tenant, run, None)).EscalationSummary, Is.EqualTo("first escalation"));

        await transcripts.RecordGuidanceAsync(run, tenant, 2, new Guidance("go on", "alice"), None);
        Assert.That((await transcripts.GetAsync(tenant, run, None)).EscalationSummary, Is.Null, "resumed: nobody is waited for");

        await transcripts.EndRunAsync(new RunEnd(run, tenant, "clerk", RunStatus.Escalated, null, "loop again", 4, new TokenUsage(2, 2), At), None);
        Assert.That((await transcripts.GetAsync(tenant, run, None)).EscalationSummary, Is.Null, "the first summary is not about step 4");
        await transcripts.RecordEscalationSummaryAsync(new EscalationSummarized(run, tenant, 4, "second escalation"), None);
        await transcripts.RecordEscalationSummaryAsync(new EscalationSummarized(run, tenant, 2, "first escalation"), None);
        Assert.That((await transcripts.GetAsync(tenant, run, None)).EscalationSummary, Is.EqualTo("second escalation"), "a redelivered older summary does not replace it");
    }
}
