using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Tests.Evaluation.Online;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The run page's "Online evaluation" section in Debian's chromium against `agentry serve`, with an
/// agent whose every run is graded online (the offline model; see When_online_grades_are_read_on_a_run).
public sealed class When_online_grades_are_seen_on_a_run_page : ConsoleBrowserFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Agents:Path"] = When_online_grades_are_read_on_a_run.WriteAgents(Folder.File("agents"));

    [Test]
    public async Task Should_show_the_score_and_each_graders_verdict_and_reason()
    {
        var runId = await StartAsync("graded");
        await Eventually.RunAsync(Http, runId, r => r.OnlineEvaluation is not null, "the run's online grades");

        var page = await RunPageAsync(runId);

        var section = page.GetByRole(AriaRole.Region, new() { Name = "Online evaluation" });
        await Expect(section).ToContainTextAsync("Score: 0.50");
        await Expect(section).ToContainTextAsync("the agent's scored run 1");
        var answer = section.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Rowheader, new() { Name = "answer" }) });
        var budget = section.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Rowheader, new() { Name = "budget" }) });
        await Expect(answer).ToContainTextAsync("1.00");
        await Expect(answer).ToContainTextAsync("Passed");
        await Expect(budget).ToContainTextAsync("Failed");
        await Expect(budget.GetByRole(AriaRole.Cell).Last).ToContainTextAsync("step");
        await HeadlessChromium.ScreenshotAsync(page, "console-run-online-evaluation");
    }

    [Test]
    public async Task Should_add_the_section_live_when_the_run_is_graded_while_its_page_is_open()
    {
        var runId = await StartAsync("plain");
        await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to complete");
        var page = await RunPageAsync(runId);
        var section = page.GetByRole(AriaRole.Region, new() { Name = "Online evaluation" });
        await Expect(section).ToHaveCountAsync(0);

        // As the Evaluator publishes it; the Gateway forwards it to the open page, which is never reloaded.
        await App.Services.GetRequiredService<IBus>().Publish(new RunGraded(
            runId, ServiceDefaults.Extensions.DefaultTenant, "plain", DateTimeOffset.UtcNow, 1,
            [new OnlineGrade("answer", 1, true, "The answer matches '^\\d+$'."), new OnlineGrade("rubric", 0, false, "The rubric judge could not be asked: 503.", NotGraded: true)], 4));

        await Expect(section).ToContainTextAsync("Score: 1.00");
        var rubric = section.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Rowheader, new() { Name = "rubric" }) });
        await Expect(rubric).ToContainTextAsync("Not graded");
        await Expect(rubric).ToContainTextAsync("The rubric judge could not be asked: 503.");
        await Expect(section).ToContainTextAsync("A grader that could not grade is left out of the score.");
        await HeadlessChromium.ScreenshotAsync(page, "console-run-online-evaluation-not-graded");

        // Memory kept it too: the page read again shows the same.
        await page.ReloadAsync();
        await Expect(section.GetByRole(AriaRole.Row).Filter(new() { HasText = "Not graded" })).ToHaveCountAsync(1);
    }

    private async Task<Guid> StartAsync(string agent)
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent, goal = "What is 17 * 23 + 4?" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    private async Task<IPage> RunPageAsync(Guid runId)
    {
        var page = await SignedInTabAsync("carol", [GatewayRoles.Read], $"#/runs/{runId}");
        await Expect(page.Locator(".facts")).ToContainTextAsync("Completed");
        return page;
    }
}
