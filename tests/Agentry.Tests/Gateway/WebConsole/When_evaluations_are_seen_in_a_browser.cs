using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The Evaluations pages, and the runs list's tenant filter for operators, in Debian's chromium
/// against `agentry serve`, with eval runs that `agentry eval` stored in the server's file.
/// Screenshots are kept with the results.
public sealed class When_evaluations_are_seen_in_a_browser : ConsoleBrowserFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    [Test]
    public async Task Should_list_an_eval_run_show_its_failing_cases_and_its_regression_against_the_run_before()
    {
        var (passing, regressed) = await StoredEvalRuns.RunAsync(Folder);
        var page = await SignedInTabAsync("rita", [GatewayRoles.Read], "#/evaluations");

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Evaluations" })).ToHaveAttributeAsync("aria-current", "page");
        var rows = page.Locator("tr[data-eval-run]");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToHaveAttributeAsync("data-eval-run", regressed.ToString());
        await Expect(rows.First).ToContainTextAsync("1 of 3");
        await Expect(rows.Nth(1)).ToContainTextAsync("3 of 3");
        var trend = page.GetByRole(AriaRole.Region, new() { Name = "Datasets" }).Locator("tr[data-dataset='assistant']");
        await Expect(trend.GetByRole(AriaRole.Img, new() { Name = "assistant pass rate: 100%, 33%" })).ToBeVisibleAsync();
        await page.GetByLabel("Dataset", new() { Exact = true }).SelectOptionAsync("assistant");
        await Expect(rows).ToHaveCountAsync(2);
        await HeadlessChromium.ScreenshotAsync(page, "console-evaluations");

        await rows.First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Eval run of assistant", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Result")).ToContainTextAsync("1 of 3 cases passed (33%)");
        var cases = page.GetByRole(AriaRole.Region, new() { Name = "Cases (3)" }).Locator("tr[data-case]");
        await Expect(cases).ToHaveCountAsync(3);
        await Expect(cases.First).ToHaveAttributeAsync("data-verdict", "fail");
        await Expect(cases.Last).ToHaveAttributeAsync("data-case", "time-in-tokyo");
        var arithmetic = page.Locator("tr[data-case='arithmetic-uses-calculator']");
        await Expect(arithmetic).ToContainTextAsync("FAIL");
        await Expect(arithmetic).ToContainTextAsync("calculator was not called");
        await Expect(arithmetic.Locator("td[data-grader='tools']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("failed"));
        await page.GetByLabel("Only cases that did not pass").CheckAsync();
        await Expect(cases).ToHaveCountAsync(2);
        await page.GetByLabel("Only cases that did not pass").UncheckAsync();
        await HeadlessChromium.ScreenshotAsync(page, "console-evaluation");

        await Expect(page.GetByLabel("Compare with (baseline)")).ToHaveValueAsync(passing.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Comparison of assistant", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Outcome")).ToContainTextAsync("Cases passed: 100% → 33% (−66.7 points) · 2 regressions, 0 improvements");
        var compared = page.Locator("tr[data-case]");
        await Expect(compared.First).ToHaveAttributeAsync("data-change", "regressed");
        await Expect(page.Locator("tr[data-case='division-by-calculator']")).ToContainTextAsync("REGRESSED");
        await Expect(page.Locator("tr[data-case='time-in-tokyo']")).ToContainTextAsync("UNCHANGED");
        await Expect(page.GetByText("A gate (agentry eval --baseline) would fail")).ToBeVisibleAsync();
        await HeadlessChromium.ScreenshotAsync(page, "console-evaluation-compare");

        // Swapped: the same cases improve.
        await page.GetByLabel("Baseline", new() { Exact = true }).SelectOptionAsync(regressed.ToString());
        await page.GetByLabel("Compared with it").SelectOptionAsync(passing.ToString());
        await Expect(page.GetByLabel("Outcome")).ToContainTextAsync("0 regressions, 2 improvements");
    }

    [Test]
    public async Task Should_say_how_to_make_eval_runs_when_there_are_none()
    {
        var page = await SignedInTabAsync("rita", [GatewayRoles.Read], "#/evaluations");

        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("No eval runs are stored yet.");
        await Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("agentry eval agents/evals/assistant.yaml");
        await HeadlessChromium.ScreenshotAsync(page, "console-evaluations-empty");

        await page.GotoAsync(ConsoleUrl($"#/evaluations/{Guid.Empty}"));
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"No eval run {Guid.Empty} is stored");
    }

    /// An operator picks a tenant on the runs list; its runs, live events and totals follow. A
    /// person without the admin role has no such field, and the API refuses them anyway.
    [Test]
    public async Task Should_let_an_admin_read_another_tenants_runs_and_totals()
    {
        var ours = await StartAsync(Http, "assistant", "What is 17 * 23 + 4?");
        var acme = await ClientAsync("acme");
        var theirs = await StartAsync(acme, "customer-support", "Where is order 1042?");
        await Eventually.RunAsync(Http, ours, run => run.Status == RunStatus.Completed, "our run to complete");
        await Eventually.RunAsync(acme, theirs, run => run.Status == RunStatus.Completed, "acme's run to complete");

        var page = await SignedInTabAsync("olga", GatewayRoles.All, "#/runs");
        var runs = page.Locator("tr[data-run]");
        await Expect(runs).ToHaveCountAsync(1);
        await Expect(runs.First).ToHaveAttributeAsync("data-run", ours.ToString());
        var totals = page.GetByRole(AriaRole.Region, new() { Name = "Totals" });
        await Expect(totals.Locator("tr[data-agent='assistant']")).ToHaveCountAsync(1);

        await page.GetByLabel("Tenant").FillAsync("acme");
        await page.GetByLabel("Tenant").BlurAsync();
        await Expect(runs).ToHaveCountAsync(1);
        await Expect(runs.First).ToHaveAttributeAsync("data-run", theirs.ToString());
        await Expect(runs.First.GetByRole(AriaRole.Link)).ToHaveCountAsync(0, new() { Timeout = 1000 });
        await Expect(totals).ToContainTextAsync("of tenant acme");
        await Expect(totals.Locator("tr[data-agent='customer-support']")).ToHaveCountAsync(1);
        await Expect(totals.Locator("tr[data-agent='assistant']")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Live");
        var another = await StartAsync(acme, "customer-support", "Where is order 1043?");
        await Expect(page.Locator($"tr[data-run='{another}']")).ToBeVisibleAsync();
        await HeadlessChromium.ScreenshotAsync(page, "console-runs-tenant");

        var reader = await SignedInTabAsync("rita", [GatewayRoles.Read, GatewayRoles.Approve], "#/runs");
        await Expect(reader.Locator("tr[data-run]")).ToHaveCountAsync(1);
        await Expect(reader.GetByLabel("Tenant")).ToHaveCountAsync(0);
        var readerClient = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read, GatewayRoles.Approve]);
        using var refused = await readerClient.GetAsync("/runs?tenant=acme");
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    private static async Task<Guid> StartAsync(HttpClient client, string agent, string goal)
    {
        using var response = await client.PostAsJsonAsync("/runs", new { agent, goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }
}
