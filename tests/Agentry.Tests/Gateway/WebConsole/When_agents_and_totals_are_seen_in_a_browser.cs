using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The agents pages and the runs' totals in Debian's chromium against `agentry serve`, with the
/// shipped agents and runs that go through it. Screenshots are kept with the results.
public sealed class When_agents_and_totals_are_seen_in_a_browser : ConsoleBrowserFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    [Test]
    public async Task Should_list_the_shipped_agents()
    {
        var page = await SignedInTabAsync("rita", [GatewayRoles.Read], "#/agents");

        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Agents" })).ToHaveAttributeAsync("aria-current", "page");
        var shipped = Directory.EnumerateFiles(TestAgents.RepositoryAgentsFolder(), "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray();
        await Expect(page.Locator("tr[data-agent] td:first-child")).ToHaveTextAsync(shipped!);
        await Expect(page.Locator("tr[data-agent='market-research']")).ToContainTextAsync("weekday-report (schedule)");
        await HeadlessChromium.ScreenshotAsync(page, "console-agents");

        await page.GetByRole(AriaRole.Link, new() { Name = "customer-support", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "customer-support", Level = 1 })).ToBeVisibleAsync();
    }

    [Test]
    public async Task Should_show_an_agents_schedule_with_its_next_fire_times_and_its_tools_approval()
    {
        var page = await SignedInTabAsync("rita", [GatewayRoles.Read], "#/agents/lead-outreach");

        var schedule = page.Locator("[data-trigger='weekday-outreach']");
        await Expect(schedule).ToContainTextAsync("Schedule “30 8 * * 1-5” in Europe/Berlin, misfire run-once. Active.");
        var fires = schedule.GetByRole(AriaRole.List, new() { Name = "Next fire times:" }).GetByRole(AriaRole.Listitem);
        await Expect(fires).ToHaveCountAsync(3);
        var expected = (await Http.GetFromJsonAsync<AgentView>("/agents/lead-outreach"))!.Triggers.Single().Schedule!.NextFires;
        for (var i = 0; i < 3; i++)
        {
            await Expect(fires.Nth(i)).ToContainTextAsync($"{expected[i].Local:yyyy-MM-dd} 08:30:00");
        }

        var tools = page.GetByRole(AriaRole.Region, new() { Name = "Tools and permissions (7)" });
        await Expect(tools.Locator("tr[data-tool='crm_send_email']")).ToContainTextAsync("Needs approval");
        await Expect(tools.Locator("tr[data-tool='crm_send_follow_up']")).ToContainTextAsync("Not needed");
        await Expect(tools.GetByLabel("Settings of crm_send_follow_up")).ToContainTextAsync("\"max_touches\": \"3\"");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Limits" })).ToContainTextAsync("4 h per run");
        await HeadlessChromium.ScreenshotAsync(page, "console-agent");

        await page.GotoAsync(ConsoleUrl("#/agents/nobody"));
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Unknown agent 'nobody'. Known agents:");
    }

    [Test]
    public async Task Should_total_the_runs_that_went_through_per_agent_and_day()
    {
        var answered = await StartAsync("Where is order 1042?");
        await Eventually.RunAsync(Http, answered, run => run.Status == RunStatus.Completed, "the question to be answered");
        var refund = await StartAsync("Refund order 1042, it arrived broken");
        await Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.RunId == refund), "the refund to wait for approval");
        using (var cancelled = await Http.PostAsJsonAsync($"/runs/{refund}/cancel", new { reason = "test" }))
        {
            Assert.That(cancelled.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        var ended = await Eventually.RunAsync(Http, refund, run => run.Status == RunStatus.Cancelled, "the refund to be cancelled");
        var completed = await Eventually.RunAsync(Http, answered, run => run.Status == RunStatus.Completed, "the answer");

        var page = await SignedInTabAsync("rita", [GatewayRoles.Read], "#/runs");
        var totals = page.GetByRole(AriaRole.Region, new() { Name = "Totals" });
        var today = totals.Locator($"tr[data-agent='customer-support'][data-day='{DateTime.UtcNow:yyyy-MM-dd}']");
        // Runs, Completed, Failed, Escalated, Cancelled, Running, Success rate
        await Expect(today.Locator("td:nth-child(n+3):nth-child(-n+9)")).ToHaveTextAsync(["2", "1", "0", "0", "1", "0", "50%"]);
        await Expect(today.Locator("td").Last).ToContainTextAsync("$");
        await Expect(totals.GetByLabel("Totals of the window")).ToContainTextAsync($"2 runs · 50% succeeded · {(completed.Usage!.Total + (ended.Usage?.Total ?? 0)).ToString("N0", System.Globalization.CultureInfo.GetCultureInfo("en-US"))} tokens");
        await HeadlessChromium.ScreenshotAsync(page, "console-runs-totals");

        await page.GetByLabel("Agent").FillAsync("coder");
        await page.GetByLabel("Agent").BlurAsync();
        await Expect(totals).ToContainTextAsync("No runs in this window.");

        await page.GotoAsync(ConsoleUrl("#/agents"));
        await Expect(page.Locator("tr[data-agent='customer-support'] td.number")).ToHaveTextAsync([new Regex("^2$"), new Regex("^50%$"), new Regex(@"^\$\d")]);
    }

    private async Task<Guid> StartAsync(string goal)
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }
}
