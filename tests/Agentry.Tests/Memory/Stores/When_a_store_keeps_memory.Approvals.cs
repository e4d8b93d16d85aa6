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
}
