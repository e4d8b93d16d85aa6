using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;

namespace Agentry.Tests.Gateway;

/// POST and DELETE /runs/{id}/approvals/{callId}/assign over real Kestrel, with every service behind
/// them in one process: the assignment travels over the bus to Memory, which keeps it in its database.
public sealed class When_approvals_are_assigned_over_http : AgentryServerFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    private async Task<ApprovalView> WaitingRefundAsync()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal = "Refund order 1042, it arrived broken" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var runId = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        return await Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.RunId == runId), "the refund to wait for approval");
    }

    private Task<ApprovalView> PendingAsync(ApprovalView call, Func<ApprovalView, bool> until, string what) =>
        Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.CallId == call.CallId && until(a)), what);

    [Test]
    public async Task Should_record_and_audit_the_assignment_and_keep_it_across_a_restart()
    {
        var call = await WaitingRefundAsync();
        var lead = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Approve, GatewayRoles.Read], "lead");

        using (var assigned = await lead.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign", new { assignee = "  alice " }))
        {
            Assert.That(assigned.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await assigned.Content.ReadAsStringAsync());
        }

        var recorded = await PendingAsync(call, a => a.Assignee is not null, "the assignment to be recorded");
        Assert.That((recorded.Assignee, recorded.AssignedBy, recorded.AssignedAt is not null), Is.EqualTo(("alice", "lead", true)));
        var audit = await Eventually.Until(async () => (await Http.GetFromJsonAsync<AuditTrail>($"/audit?runId={call.RunId}"))!.Entries.FirstOrDefault(e => e.Action == "approval.assigned"), "the audit entry");
        Assert.That((audit.Target, audit.Detail), Is.EqualTo(((string?)call.CallId, (string?)"alice")));
        Assert.That(audit.Actor, Does.StartWith("lead ("), "who assigned, with their credential");

        await RestartServerAsync();
        var afterRestart = (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.Single(a => a.CallId == call.CallId);
        Assert.That(afterRestart.Assignee, Is.EqualTo("alice"), "the assignment is Memory's, not the Gateway's");

        using (var taken = await Http.DeleteAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign"))
        {
            Assert.That(taken.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        await PendingAsync(call, a => a.Assignee is null, "the assignment to be taken back");
        await Eventually.Until(async () => (await Http.GetFromJsonAsync<AuditTrail>($"/audit?runId={call.RunId}"))!.Entries.FirstOrDefault(e => e.Action == "approval.unassigned"), "the audit entry of taking it back");
    }

    [Test]
    public async Task Should_refuse_an_unknown_run_or_call_a_bad_body_and_a_caller_without_the_approve_role()
    {
        var call = await WaitingRefundAsync();
        var unknownRun = Guid.NewGuid();

        using (var noRun = await Http.PostAsJsonAsync($"/runs/{unknownRun}/approvals/{call.CallId}/assign", new { assignee = "alice" }))
        {
            Assert.That(noRun.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await noRun.Content.ReadAsStringAsync(), Does.Contain($"No run {unknownRun} is known."));
        }

        using (var noCall = await Http.PostAsJsonAsync($"/runs/{call.RunId}/approvals/call_nobody_made/assign", new { assignee = "alice" }))
        {
            Assert.That(noCall.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await noCall.Content.ReadAsStringAsync(), Does.Contain($"has no call 'call_nobody_made' that needs approval. Calls waiting: {call.CallId}."));
        }

        foreach (var (body, sentence) in new[]
        {
            ((object)new { }, "Say who should decide the call"),
            (new { assignee = "   " }, "Say who should decide the call"),
            (new { assignee = "alice\nbob" }, "may not hold control characters"),
            (new { assignee = new string('a', 201) }, "a name has at most 200"),
        })
        {
            using var bad = await Http.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign", body);
            Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), sentence);
            Assert.That(await bad.Content.ReadAsStringAsync(), Does.Contain(sentence));
        }

        var reader = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read], "bob");
        using (var refused = await reader.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign", new { assignee = "bob" }))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("lacks the role 'approve'"));
        }

        var otherTenant = await ClientAsync("acme", GatewayRoles.All);
        using (var elsewhere = await otherTenant.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign", new { assignee = "eve" }))
        {
            Assert.That(elsewhere.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "another tenant's run is not found");
        }

        using (var decided = await Http.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}", new { approved = false, comment = "no" }))
        {
            Assert.That(decided.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        await Eventually.RunAsync(Http, call.RunId, run => run.Approvals!.Single().Approved is not null, "the decision to be recorded");
        using var late = await Http.PostAsJsonAsync($"/runs/{call.RunId}/approvals/{call.CallId}/assign", new { assignee = "alice" });
        Assert.That(late.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await late.Content.ReadAsStringAsync(), Does.Contain("was already denied by"));
        Assert.That((await Http.GetFromJsonAsync<RunView>($"/runs/{call.RunId}"))!.Approvals!.Single().Assignee, Is.Null);
    }
}
