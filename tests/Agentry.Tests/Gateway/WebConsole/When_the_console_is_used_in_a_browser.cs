using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The console in Debian's chromium against `agentry serve` with runs going through it: the
/// customer-support agent's refund waits for a person's approval (the offline model asks for it),
/// so a run can be watched while it waits and after a person decides. Screenshots of each page are
/// kept with the results.
public sealed class When_the_console_is_used_in_a_browser : ConsoleBrowserFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    private async Task<Guid> StartRefundAsync(string goal = "Refund order 1042, it arrived broken")
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    [Test]
    public async Task Should_refuse_a_wrong_credential_and_say_so()
    {
        var page = await Browser.NewPageAsync();
        await page.GotoAsync(ConsoleUrl());
        await HeadlessChromium.ScreenshotAsync(page, "console-sign-in");
        await page.GetByLabel("API key or bearer token").FillAsync("agk_not_a_key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("did not accept this credential");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" })).ToBeHiddenAsync();
    }

    [Test]
    public async Task Should_show_a_run_live_and_complete_it_once_approved_in_the_browser()
    {
        var list = await SignedInTabAsync("alice", GatewayRoles.All);
        await Expect(list.GetByRole(AriaRole.Status).Filter(new() { HasText = "Live" })).ToBeVisibleAsync();

        var runId = await StartRefundAsync();
        var row = list.Locator($"tr[data-run='{runId}']");
        await Expect(row).ToContainTextAsync("Refund order 1042");
        await Expect(row).ToContainTextAsync("Running");

        var runPage = await SignedInTabAsync("alice", GatewayRoles.All, $"#/runs/{runId}");
        var call = runPage.Locator(".call").Filter(new() { HasText = "refund_order" });
        await Expect(call.GetByLabel("Arguments of refund_order")).ToContainTextAsync("\"order_id\": \"1042\"");
        await Expect(call).ToContainTextAsync("Waiting for approval");
        await HeadlessChromium.ScreenshotAsync(runPage, "console-run-waiting-for-approval");

        var inbox = await SignedInTabAsync("alice", GatewayRoles.All, "#/approvals");
        var card = inbox.GetByRole(AriaRole.Article, new() { Name = "customer-support wants to call refund_order" });
        await Expect(card).ToContainTextAsync("Refund order 1042, it arrived broken");
        await Expect(card.GetByLabel("Arguments of refund_order")).ToContainTextAsync("1042");
        await HeadlessChromium.ScreenshotAsync(inbox, "console-approvals");
        await card.GetByLabel("Comment").FillAsync("photos checked");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(card).ToContainTextAsync("Approved by alice: “photos checked”");

        // The run's page, never reloaded, follows the run to its end.
        await Expect(call).ToContainTextAsync("Approved by alice: “photos checked”");
        await Expect(call.GetByLabel("Result of refund_order")).ToContainTextAsync("Refunded 249.99 EUR for order 1042");
        await Expect(runPage.GetByRole(AriaRole.Region, new() { Name = "Final answer" })).ToBeVisibleAsync();
        await Expect(runPage.Locator(".facts")).ToContainTextAsync("Completed");
        await Expect(runPage.Locator(".step[data-step='1'] .meta").First).ToContainTextAsync(" in / ");
        await Expect(runPage.GetByRole(AriaRole.Button, new() { Name = "Cancel run" })).ToBeHiddenAsync();
        await HeadlessChromium.ScreenshotAsync(runPage, "console-run-completed");

        await Expect(row).ToContainTextAsync("Completed");
        await list.GetByLabel("Status").SelectOptionAsync("Failed");
        await Expect(row).ToBeHiddenAsync();
        await list.GetByLabel("Status").SelectOptionAsync("Completed");
        await Expect(row).ToBeVisibleAsync();
        await HeadlessChromium.ScreenshotAsync(list, "console-runs");

        var run = await Eventually.RunAsync(Http, runId, r => r.Status != RunStatus.Running, "the run to end");
        Assert.That((run.Status, run.Approvals!.Single().DecidedBy), Is.EqualTo((RunStatus.Completed, (string?)"alice")));
    }

    [Test]
    public async Task Should_show_a_reader_no_approve_button_and_the_api_refuses_them()
    {
        var runId = await StartRefundAsync();
        var reader = await SignedInTabAsync("bob", [GatewayRoles.Read], "#/approvals");
        var card = reader.GetByRole(AriaRole.Article, new() { Name = "customer-support wants to call refund_order" });
        await Expect(card).ToContainTextAsync("Refund order 1042");
        await Expect(reader.GetByText("your credential lacks the approve role")).ToBeVisibleAsync();
        await Expect(card.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await HeadlessChromium.ScreenshotAsync(reader, "console-approvals-read-only");

        await reader.GotoAsync(ConsoleUrl($"#/runs/{runId}"));
        await Expect(reader.Locator(".call")).ToContainTextAsync("A person with the approve role decides it.");
        await Expect(reader.GetByRole(AriaRole.Button, new() { Name = "Cancel run" })).ToBeHiddenAsync();

        var bob = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read], "bob");
        var waiting = (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.Single(a => a.RunId == runId);
        using var refused = await bob.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.CallId}", new { approved = true });
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("lacks the role 'approve'"));
    }

    [Test]
    public async Task Should_show_a_finished_runs_timeline_of_spans()
    {
        var runId = await StartRefundAsync();
        var waiting = await Eventually.RunAsync(Http, runId, r => r.Approvals is { Count: > 0 }, "the refund to wait for approval");
        var alice = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, GatewayRoles.All, "alice");
        using (var approved = await alice.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.Approvals![0].CallId}", new { approved = true, comment = "photos checked" }))
        {
            Assert.That(approved.IsSuccessStatusCode, await approved.Content.ReadAsStringAsync());
        }

        await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to complete");

        var page = await SignedInTabAsync("alice", GatewayRoles.All, $"#/runs/{runId}");
        var timeline = page.GetByRole(AriaRole.Region, new() { Name = "Timeline" });
        var receive = timeline.Locator("tbody tr").Filter(new() { HasText = "plan-step receive" }).First;
        await Expect(receive).ToBeVisibleAsync();
        await Expect(receive.Locator(".span-bar.work")).ToBeVisibleAsync();
        // Each bar says in words what it draws; the receive's also its wait in the queue.
        Assert.That(await receive.GetByRole(AriaRole.Img).GetAttributeAsync("aria-label"), Does.Match(@"^plan-step receive \(agentry\), starts at [\d.]+ m?s, waited [\d.]+ m?s in the queue, took [\d.]+ m?s$"));
        await Expect(timeline.Locator("tbody tr").Filter(new() { HasText = "execute_tool refund_order" })).ToHaveCountAsync(1);
        await Expect(timeline).ToContainTextAsync("from this process's recent runs");
        await Expect(page.Locator(".step[data-step='1'] .meta").First).ToContainTextAsync("planned in ");
        // A run that has ended follows nothing live.
        await Expect(page.Locator(".heading").GetByRole(AriaRole.Status)).ToHaveCountAsync(0);

        var shown = await timeline.Locator("tbody tr").CountAsync();
        await timeline.GetByLabel("Show every span").CheckAsync();
        await Expect(timeline.Locator("tbody tr").Filter(new() { HasText = "GoalReceived send" })).ToHaveCountAsync(1);
        Assert.That(await timeline.Locator("tbody tr").CountAsync(), Is.GreaterThan(shown));
        await timeline.GetByLabel("Show every span").UncheckAsync();

        await HeadlessChromium.ScreenshotAsync(page, "console-run-timeline");
        // The README's picture of the run page (its steps and the start of its timeline): written
        // only when asked, so that a test run changes no file of the repository.
        if (Environment.GetEnvironmentVariable("AGENTRY_UPDATE_SCREENSHOTS") == "1")
        {
            await page.SetViewportSizeAsync(1280, 1700);
            await page.EvaluateAsync("window.scrollTo(0, 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(TestAgents.RepositoryAgentsFolder(), "..", "docs", "images", "console-run.png") });
        }
    }

    [Test]
    public async Task Should_cancel_a_run_from_its_page()
    {
        var runId = await StartRefundAsync();
        var page = await SignedInTabAsync("alice", GatewayRoles.All, $"#/runs/{runId}");
        await Expect(page.Locator(".call")).ToContainTextAsync("Waiting for approval");
        var reason = page.GetByLabel("Reason to cancel (optional)");
        await reason.FillAsync("customer withdrew");
        // The open run's page is read again every 3 s: what is typed, and the caret, stay through it.
        await page.WaitForTimeoutAsync(3_500);
        await reason.PressSequentiallyAsync(" the request");
        await Expect(reason).ToHaveValueAsync("customer withdrew the request");
        await Expect(reason).ToBeFocusedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel run" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync("Cancelled");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Why it ended" })).ToContainTextAsync("customer withdrew the request");
    }

    /// Order 1050 is worth more than the agent's refund limit: once its refund is approved, the tool
    /// hands the run to a person and the run escalates.
    private async Task<Guid> EscalatedRefundAsync()
    {
        var runId = await StartRefundAsync("Refund order 1050, the screen flickers");
        var waiting = await Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.RunId == runId), "the refund to wait for approval");
        using var approved = await Http.PostAsJsonAsync($"/runs/{runId}/approvals/{waiting.CallId}", new { approved = true });
        Assert.That(approved.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return runId;
    }

    [Test]
    public async Task Should_show_an_escalation_with_its_summary_and_close_it_with_a_resolution()
    {
        var page = await SignedInTabAsync("alice", GatewayRoles.All, "#/escalations");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Escalations" })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Live" })).ToBeVisibleAsync();
        var runId = await EscalatedRefundAsync();

        // The run arrives live, and the summary the Notifier sent comes with it or just after.
        var card = page.Locator($"article[data-run='{runId}']");
        await Expect(card).ToContainTextAsync("Refund order 1050, the screen flickers");
        await Expect(card).ToContainTextAsync("Order 1050 is worth 1899.00 EUR");
        var summary = card.GetByRole(AriaRole.Region, new() { Name = "Summary sent to a person" });
        await Expect(summary).ToContainTextAsync($"Run {runId} of agent 'customer-support' needs a person");
        await Expect(summary).ToContainTextAsync($"agentry close {runId}");
        await card.GetByText("Transcript (").ClickAsync();
        await Expect(card.Locator(".call").Filter(new() { HasText = "refund_order" })).ToContainTextAsync("Approved by");
        await HeadlessChromium.ScreenshotAsync(page, "console-escalations");

        var reader = await SignedInTabAsync("bob", [GatewayRoles.Read], "#/escalations");
        await Expect(reader.Locator($"article[data-run='{runId}']")).ToContainTextAsync("needs a person");
        await Expect(reader.GetByText("your credential lacks the approve role")).ToBeVisibleAsync();
        await Expect(reader.Locator($"article[data-run='{runId}']").GetByRole(AriaRole.Button)).ToHaveCountAsync(0);

        await card.GetByLabel("Resolution").FillAsync("Refunded by hand after the lead's check.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Close with resolution" }).ClickAsync();
        await Expect(reader.Locator($"article[data-run='{runId}']")).ToHaveCountAsync(0);
        await Expect(page.Locator($"article[data-run='{runId}']")).ToHaveCountAsync(0);
        await Expect(page.GetByText("No run is waiting for a person.")).ToBeVisibleAsync();

        var run = await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to end with the resolution");
        Assert.That((run.Answer, run.Reason), Is.EqualTo(("Refunded by hand after the lead's check.", "Closed by alice.")));
    }

    [Test]
    public async Task Should_resume_an_escalation_with_guidance_and_the_run_goes_on()
    {
        var runId = await EscalatedRefundAsync();
        await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Escalated, "the run to escalate");
        var page = await SignedInTabAsync("alice", GatewayRoles.All, "#/escalations");
        var card = page.Locator($"article[data-run='{runId}']");
        await card.GetByLabel("Guidance").FillAsync("Do not refund; tell the customer a person will call.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Resume with guidance" }).ClickAsync();
        await Expect(card).ToHaveCountAsync(0);

        var run = await Eventually.RunAsync(Http, runId,
            r => r.Steps.FirstOrDefault(s => s.Guidance is not null) is { } guided && r.Steps.Any(s => s.Step > guided.Step && s.Usage is not null),
            "the run to plan a step after the guidance");
        Assert.That(run.Steps.Single(s => s.Guidance is not null).Guidance, Is.EqualTo(new Guidance("Do not refund; tell the customer a person will call.", "alice")));
        await page.GotoAsync(ConsoleUrl($"#/runs/{runId}"));
        await Expect(page.Locator(".step").Filter(new() { HasText = "Guidance from alice" })).ToContainTextAsync("tell the customer a person will call");
    }

    [Test]
    public async Task Should_assign_an_approval_filter_by_assignee_and_show_the_time_waited()
    {
        await StartRefundAsync();
        var inbox = await SignedInTabAsync("alice", GatewayRoles.All, "#/approvals");
        var card = inbox.GetByRole(AriaRole.Article, new() { Name = "customer-support wants to call refund_order" });
        await Expect(card).ToContainTextAsync("Assigned to nobody");
        await Expect(card.Locator(".waited")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Waited \d+ s of 30 min"));

        await card.GetByLabel("Assign to").FillAsync("carol");
        await card.GetByRole(AriaRole.Button, new() { Name = "Assign", Exact = true }).ClickAsync();
        await Expect(card).ToContainTextAsync("Assigned to carol by alice");
        var filter = inbox.GetByLabel("Assigned to", new() { Exact = true });
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "Me (alice)" });
        await Expect(card).ToHaveCountAsync(0);
        await Expect(inbox.GetByText("No call matches this filter.")).ToBeVisibleAsync();
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "carol" });
        await Expect(card).ToBeVisibleAsync();

        await card.GetByRole(AriaRole.Button, new() { Name = "Assign to me" }).ClickAsync();
        await Expect(card).ToHaveCountAsync(0, new() { Timeout = 10_000 });
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "Anyone or nobody" });
        await Expect(card).ToContainTextAsync("Assigned to alice by alice");
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "Me (alice)" });
        await Expect(card).ToBeVisibleAsync();
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "Nobody (unassigned)" });
        await Expect(card).ToHaveCountAsync(0);
        await filter.SelectOptionAsync(new SelectOptionValue { Label = "Me (alice)" });
        await HeadlessChromium.ScreenshotAsync(inbox, "console-approvals-assigned");

        // What the page shows is what Memory recorded, read again by a second tab.
        var other = await SignedInTabAsync("alice", GatewayRoles.All, "#/approvals");
        await Expect(other.GetByRole(AriaRole.Article, new() { Name = "customer-support wants to call refund_order" })).ToContainTextAsync("Assigned to alice by alice");
    }
}
