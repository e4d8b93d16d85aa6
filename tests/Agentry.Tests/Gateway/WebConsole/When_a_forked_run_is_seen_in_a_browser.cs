using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The run page's facts in Debian's chromium against `agentry serve` (the offline model): the
/// definition a run is pinned to, the run a fork came from, and a parent's forks and replays, each
/// a link to its page (docs/durability.md).
public sealed class When_a_forked_run_is_seen_in_a_browser : ConsoleBrowserFixture
{
    [Test]
    public async Task Should_show_the_pinned_definition_and_link_a_fork_and_its_parent_both_ways()
    {
        var parent = await StartAsync("/runs", new { agent = "assistant", goal = "What is (2 + 3) * 4?" });
        var recorded = await Eventually.RunAsync(Http, parent, r => r.Status == RunStatus.Completed, "the parent's end");
        Assert.That(recorded.Steps, Has.Count.GreaterThan(1), "a parent with a step to fork after");
        var fork = await StartAsync($"/runs/{parent}/fork", new { fromStep = 1, guidance = "Say the result in words." });
        await Eventually.RunAsync(Http, fork, r => r.Status is not (RunStatus.Running or null), "the fork's end");
        using var pinned = await Http.GetAsync($"/runs/{parent}");
        var hash = (await pinned.Content.ReadFromJsonAsync<RunView>())!.Definition!.AgentHash!;

        var page = await SignedInTabAsync("dana", [GatewayRoles.Read], $"#/runs/{fork}");
        var facts = page.Locator(".facts");
        await Expect(facts).ToContainTextAsync("Forked from");
        await Expect(facts).ToContainTextAsync($"run {parent} at step 1");
        await Expect(facts).ToContainTextAsync("guidance from");
        await Expect(facts).ToContainTextAsync("Say the result in words.");
        await Expect(facts).ToContainTextAsync($"{hash[..12]} · the current one");
        await HeadlessChromium.ScreenshotAsync(page, "console-run-fork");

        await facts.GetByRole(AriaRole.Link, new() { Name = $"run {parent}" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync("Forks and replays");
        await Expect(page.Locator(".facts")).Not.ToContainTextAsync("Forked from");
        await page.Locator(".facts").GetByRole(AriaRole.Link, new() { Name = "fork at step 1" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync($"run {parent} at step 1");
    }

    private async Task<Guid> StartAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        Assert.That(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }
}
