using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tests.Gateway.Schedules;

namespace Agentry.Tests.Cases;

/// The shipped market-research agent's own schedule, on the Gateway's scheduler under a clock the
/// test moves: 06:00 New York time on weekdays, and the day's report asked for in its goal and input.
public sealed class When_the_market_research_schedule_is_due
{
    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public async Task Should_start_the_report_at_six_in_new_york_on_weekdays_only()
    {
        var agents = AgentCatalog.LoadDirectory(TestAgents.RepositoryAgentsFolder(), ShippedTools.Catalog);
        await using var bench = await ScheduleBench.StartAsync("sqlite", agents);
        bench.Clock.SetUtcNow(At("2026-12-11T10:58:00Z"));
        var scheduler = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(scheduler);

        // Friday 06:00 EST is 11:00 UTC; the weekend passes without a run; then Monday.
        await bench.RunUntilAsync(At("2026-12-11T11:02:00Z"), TimeSpan.FromSeconds(30), scheduler);
        bench.Clock.SetUtcNow(At("2026-12-12T10:58:00Z"));
        await bench.RunUntilAsync(At("2026-12-12T11:02:00Z"), TimeSpan.FromSeconds(30), scheduler);
        bench.Clock.SetUtcNow(At("2026-12-14T10:58:00Z"));
        await bench.RunUntilAsync(At("2026-12-14T11:02:00Z"), TimeSpan.FromSeconds(30), scheduler);

        var goals = bench.Published.Where(g => g.Agent == "market-research").OrderBy(g => g.Origin!.DueAt).ToList();
        Assert.That(goals.Select(g => g.Origin!.DueAt), Is.EqualTo(new DateTimeOffset?[] { At("2026-12-11T11:00:00Z"), At("2026-12-14T11:00:00Z") }));
        var monday = goals[1];
        Assert.That((monday.Trigger, monday.Origin!.Name, monday.Origin.Source), Is.EqualTo((TriggerKind.Schedule, "weekday-report", "0 6 * * 1-5 (America/New_York)")));
        Assert.That(monday.Goal, Is.EqualTo("Write the pre-market research report for 2026-12-14 (Monday) on the watchlist ACME and GLBX."));
        Assert.That(monday.Input!.Value.GetProperty("as_of").GetString(), Is.EqualTo("2026-12-14"));
        Assert.That(monday.Input.Value.GetProperty("tickers").EnumerateArray().Select(t => t.GetString()), Is.EqualTo(new[] { "ACME", "GLBX" }));
        Assert.That(monday.RunId, Is.EqualTo(ScheduleBench.RunIdOf("market-research", "weekday-report", At("2026-12-14T11:00:00Z"))));
    }
}
