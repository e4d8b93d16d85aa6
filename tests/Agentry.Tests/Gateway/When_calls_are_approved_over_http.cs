using System.Net;
using System.Net.Http.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;

namespace Agentry.Tests.Gateway;

/// GET /approvals and POST /runs/{id}/approvals/{callId} over real Kestrel, with every service
/// behind them in one process, and `agentry approvals/approve/deny` against them.
public sealed class When_calls_are_approved_over_http : AgentryServerFixture
{
    /// The customer-support agent's order tools keep their orders in a database of the test's own.
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    private string GatewayUrl => Http.BaseAddress!.ToString();

    private async Task<Guid> StartRefund(string goal = "Refund order 1042, it arrived broken")
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    private async Task<ApprovalView> WaitForApproval(Guid runId) =>
        await Tests.Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.RunId == runId), "the refund to wait for approval");

    private async Task<RunView> WaitForEnd(Guid runId) =>
        await Tests.Eventually.RunAsync(Http, runId, run => run.Status != RunStatus.Running, "the run to end");

    [Test]
    public async Task Should_list_the_waiting_call_run_it_once_approved_and_refuse_a_second_decision()
    {
        var runId = await StartRefund();

        var waiting = await WaitForApproval(runId);
        Assert.That((waiting.Agent, waiting.Tool, waiting.Step, waiting.Approved), Is.EqualTo(("customer-support", "refund_order", 1, (bool?)null)));
        Assert.That(waiting.Arguments.GetProperty("order_id").GetString(), Is.EqualTo("1042"));

        var alice = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Approve], "alice");
        var mallory = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Approve], "mallory");
        using (var incomplete = await alice.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.CallId}", new { comment = "looks fine" }))
        {
            Assert.That(incomplete.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await incomplete.Content.ReadAsStringAsync(), Does.Contain("Say whether the call is approved"));
        }

        using (var unknownCall = await alice.PostAsJsonAsync($"/runs/{runId}/approvals/call_nobody_made", new { approved = true }))
        {
            Assert.That(unknownCall.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await unknownCall.Content.ReadAsStringAsync(), Does.Contain($"Calls waiting: {waiting.CallId}"));
        }

        using (var unknownRun = await alice.PostAsJsonAsync($"/runs/{Guid.NewGuid()}/approvals/{waiting.CallId}", new { approved = true }))
        {
            Assert.That(unknownRun.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        // "by" in the body is not believed: the key says who decides.
        using (var approved = await alice.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.CallId}", new { approved = true, by = "the CEO", comment = "photos checked" }))
        {
            Assert.That(approved.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        var run = await WaitForEnd(runId);
        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(run.Steps[0].Outcomes.Single().Output, Does.StartWith("Refunded 249.99 EUR for order 1042"));
        var decided = run.Approvals!.Single();
        Assert.That((decided.Approved, decided.DecidedBy, decided.Comment), Is.EqualTo(((bool?)true, (string?)"alice", (string?)"photos checked")));
        Assert.That((await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals, Is.Empty);

        using var again = await mallory.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.CallId}", new { approved = false, comment = "no" });
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await again.Content.ReadAsStringAsync(), Does.Contain("already approved by alice"));
    }

    [Test]
    public async Task Should_list_and_deny_from_the_cli()
    {
        var runId = await StartRefund();
        var waiting = await WaitForApproval(runId);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var bob = new GatewayTarget(GatewayUrl, await CreateKeyAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read, GatewayRoles.Approve], "bob"));

        Assert.That(await ApprovalCommands.ListAsync(new GatewayTarget(GatewayUrl), output, error, CancellationToken.None), Is.EqualTo(ExitCodes.NotCompleted), "no key");
        Assert.That(error.ToString(), Does.Contain("Pass an API key with --key or AGENTRY_API_KEY"));
        Assert.That(await ApprovalCommands.ListAsync(bob, output, error, CancellationToken.None), Is.EqualTo(ExitCodes.Completed), error.ToString());
        Assert.That(output.ToString(), Does.Contain($"{runId} {waiting.CallId}  customer-support, step 1: refund_order"));

        Assert.That(await ApprovalCommands.DecideAsync(bob, runId.ToString(), waiting.CallId, approved: false, "bob", null, output, error, CancellationToken.None),
            Is.EqualTo(ExitCodes.BadInput), "a denial without a reason was sent");
        Assert.That(error.ToString(), Does.Contain("Say why with --comment"));

        Assert.That(await ApprovalCommands.DecideAsync(bob, runId.ToString(), waiting.CallId, approved: false, "bob", "not for this customer", output, error, CancellationToken.None),
            Is.EqualTo(ExitCodes.Completed), error.ToString());

        var run = await WaitForEnd(runId);
        var outcome = run.Steps[0].Outcomes.Single();
        Assert.That((outcome.ErrorKind, outcome.Error), Is.EqualTo((ToolErrorKind.PermissionDenied, "Denied by bob: not for this customer")));
        Assert.That(run.Answer, Does.StartWith("I could not complete the goal: refund_order failed"));

        using var lateError = new StringWriter();
        Assert.That(await ApprovalCommands.DecideAsync(bob, runId.ToString(), waiting.CallId, approved: true, "mallory", null, output, lateError, CancellationToken.None),
            Is.EqualTo(ExitCodes.BadInput));
        Assert.That(lateError.ToString(), Does.Contain("already denied by bob"));
    }

    [TestCase("not a url")]
    [TestCase("/relative/path")]
    public async Task Should_refuse_a_gateway_that_is_not_an_absolute_url(string gateway)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.That(await ApprovalCommands.DecideAsync(new GatewayTarget(gateway), Guid.NewGuid().ToString(), "call_1_1", approved: true, "alice", null, output, error, CancellationToken.None),
            Is.EqualTo(ExitCodes.BadInput));
        Assert.That(await ApprovalCommands.ListAsync(new GatewayTarget(gateway), output, error, CancellationToken.None), Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.ToString(), Does.Contain($"--gateway '{gateway}' is not an absolute http or https URL such as http://127.0.0.1:5080."));
    }
}
