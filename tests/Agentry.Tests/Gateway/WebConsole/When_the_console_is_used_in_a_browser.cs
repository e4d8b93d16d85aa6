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
public sealed class When_the_console_is_used_in_a_browser : AgentryServerFixture
{
    private HeadlessChromium _chromium = null!;
    private IBrowserContext _browser = null!;

    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    [SetUp]
    public async Task OpenBrowser()
    {
        SetDefaultExpectTimeout(30_000);
        _chromium = await HeadlessChromium.LaunchAsync();
        _browser = await _chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
    }

    [TearDown]
    public async Task CloseBrowser()
    {
        await _browser.DisposeAsync();
        await _chromium.DisposeAsync();
    }

    /// A tab signed in with a new key of the default tenant: each tab keeps its own credential.
    private async Task<IPage> SignedInTabAsync(string name, IReadOnlyList<string> roles, string at = "")
    {
        var page = await _browser.NewPageAsync();
        // A script error would otherwise show only as a page that never fills in.
        page.PageError += (_, error) => TestContext.Progress.WriteLine($"console page error: {error}");
        await page.GotoAsync(new Uri(LocalHttpServer.BaseAddressOf(App), "/console/" + at).ToString());
        await page.GetByLabel("API key or bearer token").FillAsync(await CreateKeyAsync(ServiceDefaults.Extensions.DefaultTenant, roles, name));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#who")).ToContainTextAsync(name);
        return page;
    }

    private async Task<Guid> StartRefundAsync()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal = "Refund order 1042, it arrived broken" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    [Test]
    public async Task Should_refuse_a_wrong_credential_and_say_so()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(LocalHttpServer.BaseAddressOf(App), "/console/").ToString());
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

        await reader.GotoAsync(new Uri(LocalHttpServer.BaseAddressOf(App), $"/console/#/runs/{runId}").ToString());
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
        await page.GetByLabel("Reason to cancel (optional)").FillAsync("customer withdrew the request");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel run" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync("Cancelled");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Why it ended" })).ToContainTextAsync("customer withdrew the request");
    }
}
