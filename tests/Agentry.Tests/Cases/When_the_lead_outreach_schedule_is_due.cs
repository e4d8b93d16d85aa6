using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tests.Gateway.Schedules;

namespace Agentry.Tests.Cases;

/// The shipped lead-outreach agent's own schedule, on the Gateway's scheduler under a clock the test
/// moves: 08:30 Berlin time on weekdays. The CRM holds the next-touch dates, so this one trigger is
/// all that carries the sequence from day to day.
public sealed class When_the_lead_outreach_schedule_is_due
{
    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public async Task Should_work_the_sequence_at_half_past_eight_in_berlin_on_weekdays_only()
    {
        var agents = AgentCatalog.LoadDirectory(TestAgents.RepositoryAgentsFolder(), ShippedTools.Catalog);
        await using var bench = await ScheduleBench.StartAsync("sqlite", agents);
        bench.Clock.SetUtcNow(At("2026-12-11T07:28:00Z"));
        var scheduler = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(scheduler);

        // Friday 08:30 CET is 07:30 UTC; Saturday passes without a run; then Monday.
        await bench.RunUntilAsync(At("2026-12-11T07:32:00Z"), TimeSpan.FromSeconds(30), scheduler);
        bench.Clock.SetUtcNow(At("2026-12-12T07:28:00Z"));
        await bench.RunUntilAsync(At("2026-12-12T07:32:00Z"), TimeSpan.FromSeconds(30), scheduler);
        bench.Clock.SetUtcNow(At("2026-12-14T07:28:00Z"));
        await bench.RunUntilAsync(At("2026-12-14T07:32:00Z"), TimeSpan.FromSeconds(30), scheduler);

        var goals = bench.Published.Where(g => g.Agent == "lead-outreach").OrderBy(g => g.Origin!.DueAt).ToList();
        Assert.That(goals.Select(g => g.Origin!.DueAt), Is.EqualTo(new DateTimeOffset?[] { At("2026-12-11T07:30:00Z"), At("2026-12-14T07:30:00Z") }));
        var monday = goals[1];
        Assert.That((monday.Trigger, monday.Origin!.Name, monday.Origin.Source), Is.EqualTo((TriggerKind.Schedule, "weekday-outreach", "30 8 * * 1-5 (Europe/Berlin)")));
        Assert.That(monday.Goal, Is.EqualTo("Work the outreach sequence for 2026-12-14 (Monday): first emails to new leads, due follow-ups, replies to hand over."));
        Assert.That(monday.RunId, Is.EqualTo(ScheduleBench.RunIdOf("lead-outreach", "weekday-outreach", At("2026-12-14T07:30:00Z"))));
    }
}
