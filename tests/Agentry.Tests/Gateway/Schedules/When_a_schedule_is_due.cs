using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Gateway.Triggers.Schedules;

namespace Agentry.Tests.Gateway.Schedules;

/// The scheduler itself, polled by the test under a clock the test moves, on each real store:
/// Redis (the distributed path) and the SQLite file (embedded).
[TestFixture("redis")]
[TestFixture("sqlite")]
public sealed class When_a_schedule_is_due(string store)
{
    private const string Agent = "reporter";

    private static AgentCatalog Catalog(string triggers) => TestAgents.Catalog(TestAgents.Parse(Agent, $"""
        description: Reports on a schedule.
        instructions: Write the report.
        tools: [calculator]
        triggers:
        {triggers}
        """));

    private static string Schedule(string name, string cron, string misfire = "skip", string zone = "UTC", string goal = "Report for {{due}}") => $$$"""
          - name: {{{name}}}
            schedule: "{{{cron}}}"
            time_zone: {{{zone}}}
            misfire: {{{misfire}}}
            goal: "{{{goal}}}"
            input: { due: "{{due_utc}}", catch_up: "{{catch_up}}", missed: "{{missed}}" }
        """;

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<DateTimeOffset> EverySecondSecond(DateTimeOffset from, DateTimeOffset to)
    {
        for (var due = from; due <= to; due = due.AddSeconds(2))
        {
            yield return due;
        }
    }

    [Test]
    public async Task Should_fire_each_due_time_once_when_two_schedulers_share_the_store()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("pulse", "*/2 * * * * *")));
        var first = await bench.NewSchedulerAsync();
        var second = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(first, second);

        await bench.RunUntilAsync(At("2026-12-07T12:00:30.5Z"), TimeSpan.FromSeconds(1), first, second);

        var expected = EverySecondSecond(At("2026-12-07T12:00:02Z"), At("2026-12-07T12:00:30Z")).ToList();
        Assert.That(bench.Published.Select(g => g.RunId), Is.EquivalentTo(expected.Select(d => ScheduleBench.RunIdOf(Agent, "pulse", d))),
            "one run per due time, however many schedulers poll");
        var goal = bench.Published.Single(g => g.Origin!.DueAt == At("2026-12-07T12:00:10Z"));
        Assert.That((goal.Trigger, goal.Origin!.Name, goal.Origin.Source, goal.Goal), Is.EqualTo(
            (TriggerKind.Schedule, "pulse", "*/2 * * * * * (UTC)", "Report for 2026-12-07T12:00:10+00:00")));
        Assert.That(goal.Input!.Value.GetProperty("due").GetString(), Is.EqualTo("2026-12-07T12:00:10Z"));

        var history = await (await bench.NewStoreAsync()).HistoryAsync(new ScheduleId(Agent, "pulse"), 100, CancellationToken.None);
        Assert.That(history.Select(e => (e.Kind, e.Due)), Is.EqualTo(expected.AsEnumerable().Reverse().Select(d => (ScheduleEntryKind.Fired, d))));
        Assert.That(history.Select(e => e.RunId), Is.EqualTo(history.Select(e => (Guid?)ScheduleBench.RunIdOf(Agent, "pulse", e.Due))));
        var state = await (await bench.NewStoreAsync()).GetAsync(new ScheduleId(Agent, "pulse"), CancellationToken.None);
        Assert.That((state!.Fired, state.Missed, state.LastFired!.Due), Is.EqualTo((15L, 0L, At("2026-12-07T12:00:30Z"))));
    }

    [Test]
    public async Task Should_not_fire_what_was_due_before_its_first_start()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("minutely", "* * * * *")));
        bench.Clock.SetUtcNow(At("2026-12-07T12:00:30Z"));
        var scheduler = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(scheduler);
        Assert.That(bench.Published, Is.Empty, "12:00 passed before the schedule existed: it is neither fired nor missed");

        await bench.RunUntilAsync(At("2026-12-07T12:01:00.2Z"), TimeSpan.FromSeconds(0.5), scheduler);

        Assert.That(bench.Published.Select(g => g.Origin!.DueAt), Is.EqualTo(new DateTimeOffset?[] { At("2026-12-07T12:01:00Z") }));
        var history = await (await bench.NewStoreAsync()).HistoryAsync(new ScheduleId(Agent, "minutely"), 100, CancellationToken.None);
        Assert.That(history.Select(e => e.Kind), Is.EqualTo(new[] { ScheduleEntryKind.Fired }));
    }

    [TestCase("skip")]
    [TestCase("run-once")]
    public async Task Should_apply_the_misfire_policy_to_what_was_due_while_nothing_ran(string misfire)
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("pulse", "*/2 * * * * *", misfire)),
            new ScheduleOptions { MisfireGrace = TimeSpan.FromSeconds(3) });
        var before = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(before);
        await bench.RunUntilAsync(At("2026-12-07T12:00:02.5Z"), TimeSpan.FromSeconds(1), before);

        // Down for 20 s; then a new process (a store of its own over the same data) starts.
        bench.Clock.SetUtcNow(At("2026-12-07T12:00:22.5Z"));
        var restarted = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(restarted);

        // 04 to 18 are more than 3 s late; 20 and 22 are within the grace, so on time.
        var late = EverySecondSecond(At("2026-12-07T12:00:04Z"), At("2026-12-07T12:00:18Z")).ToList();
        var fired = bench.Published.Select(g => g.Origin!.DueAt!.Value).ToList();
        var history = await (await bench.NewStoreAsync()).HistoryAsync(new ScheduleId(Agent, "pulse"), 100, CancellationToken.None);
        var state = await (await bench.NewStoreAsync()).GetAsync(new ScheduleId(Agent, "pulse"), CancellationToken.None);
        if (misfire == "skip")
        {
            Assert.That(fired, Is.EqualTo(new[] { At("2026-12-07T12:00:02Z"), At("2026-12-07T12:00:20Z"), At("2026-12-07T12:00:22Z") }));
            Assert.That(history.Where(e => e.Kind == ScheduleEntryKind.Missed).Select(e => e.Due).Reverse(), Is.EqualTo(late));
            Assert.That(state!.Missed, Is.EqualTo(8));
        }
        else
        {
            Assert.That(fired, Is.EqualTo(new[] { At("2026-12-07T12:00:02Z"), At("2026-12-07T12:00:18Z"), At("2026-12-07T12:00:20Z"), At("2026-12-07T12:00:22Z") }));
            Assert.That(history.Where(e => e.Kind == ScheduleEntryKind.Missed).Select(e => e.Due).Reverse(), Is.EqualTo(late[..^1]));
            var catchUp = history.Single(e => e.CatchUp);
            Assert.That((catchUp.Kind, catchUp.Due, catchUp.Detail), Is.EqualTo((ScheduleEntryKind.Fired, At("2026-12-07T12:00:18Z"), "run once to catch up after downtime (7 earlier due times missed)")));
            var goal = bench.Published.Single(g => g.Origin!.DueAt == At("2026-12-07T12:00:18Z"));
            Assert.That((goal.Input!.Value.GetProperty("catch_up").GetBoolean(), goal.Input.Value.GetProperty("missed").GetInt32()), Is.EqualTo((true, 7)));
            Assert.That(state!.Missed, Is.EqualTo(7));
        }

        Assert.That(history.Where(e => e.Kind == ScheduleEntryKind.Missed).Select(e => e.Detail), Is.All.EqualTo("no Gateway fired it within 3 s of its time"));

        // The next poll finds nothing left to do: each due time was handled once.
        await ScheduleBench.PollAsync(restarted, await bench.NewSchedulerAsync());
        Assert.That(bench.Published, Has.Count.EqualTo(fired.Count));
    }

    [Test]
    public async Task Should_record_a_long_downtime_of_a_frequent_schedule_as_one_entry_with_its_count()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("pulse", "*/2 * * * * *")));
        await ScheduleBench.PollAsync(await bench.NewSchedulerAsync());

        bench.Clock.SetUtcNow(At("2026-12-07T13:00:00.5Z"));
        await ScheduleBench.PollAsync(await bench.NewSchedulerAsync());

        var history = await (await bench.NewStoreAsync()).HistoryAsync(new ScheduleId(Agent, "pulse"), 100, CancellationToken.None);
        var missed = history.Single(e => e.Kind == ScheduleEntryKind.Missed);
        // 12:00:02 to 12:59:00 are more than the minute's grace late; 12:59:02 to 13:00:00 fire.
        Assert.That((missed.Due, missed.Until, missed.Count), Is.EqualTo((At("2026-12-07T12:00:02Z"), (DateTimeOffset?)At("2026-12-07T12:59:00Z"), 1770)));
        Assert.That(bench.Published, Has.Count.EqualTo(30));
        var state = await (await bench.NewStoreAsync()).GetAsync(new ScheduleId(Agent, "pulse"), CancellationToken.None);
        Assert.That((state!.Missed, state.Fired), Is.EqualTo((1770L, 30L)));
    }

    [Test]
    public async Task Should_skip_and_record_the_due_times_of_a_paused_schedule_until_it_is_resumed()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("pulse", "*/2 * * * * *")));
        var scheduler = await bench.NewSchedulerAsync();
        var id = new ScheduleId(Agent, "pulse");
        await ScheduleBench.PollAsync(scheduler);
        await bench.RunUntilAsync(At("2026-12-07T12:00:02.5Z"), TimeSpan.FromSeconds(1), scheduler);

        var control = await bench.NewStoreAsync();
        Assert.That(await control.SetPausedAsync(id, paused: true, bench.Clock.GetUtcNow(), "ops", CancellationToken.None), Is.True);
        Assert.That(await control.SetPausedAsync(id, paused: true, bench.Clock.GetUtcNow(), "ops", CancellationToken.None), Is.False, "already paused");
        await bench.RunUntilAsync(At("2026-12-07T12:00:08.5Z"), TimeSpan.FromSeconds(1), scheduler);
        var paused = await control.GetAsync(id, CancellationToken.None);
        Assert.That((paused!.Paused, paused.PausedBy, paused.Skipped), Is.EqualTo((true, "ops", 3L)));

        Assert.That(await control.SetPausedAsync(id, paused: false, bench.Clock.GetUtcNow(), "ops", CancellationToken.None), Is.True);
        await bench.RunUntilAsync(At("2026-12-07T12:00:12.5Z"), TimeSpan.FromSeconds(1), scheduler);

        Assert.That(bench.Published.Select(g => g.Origin!.DueAt!.Value), Is.EqualTo(new[] { At("2026-12-07T12:00:02Z"), At("2026-12-07T12:00:10Z"), At("2026-12-07T12:00:12Z") }));
        var history = (await control.HistoryAsync(id, 100, CancellationToken.None)).Reverse().ToList();
        Assert.That(history.Select(e => (e.Kind, e.Due)), Is.EqualTo(new[]
        {
            (ScheduleEntryKind.Fired, At("2026-12-07T12:00:02Z")),
            (ScheduleEntryKind.Skipped, At("2026-12-07T12:00:04Z")),
            (ScheduleEntryKind.Skipped, At("2026-12-07T12:00:06Z")),
            (ScheduleEntryKind.Skipped, At("2026-12-07T12:00:08Z")),
            (ScheduleEntryKind.Fired, At("2026-12-07T12:00:10Z")),
            (ScheduleEntryKind.Fired, At("2026-12-07T12:00:12Z")),
        }));
        Assert.That(history[1].Detail, Is.EqualTo("the schedule was paused"));
    }

    [Test]
    public async Task Should_record_a_due_time_that_cannot_start_a_run_once_and_not_retry_it()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("broken", "*/2 * * * * *", goal: "Report on {{region.name}}")));
        var first = await bench.NewSchedulerAsync();
        var second = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(first, second);

        await bench.RunUntilAsync(At("2026-12-07T12:00:06.5Z"), TimeSpan.FromSeconds(0.5), first, second);

        Assert.That(bench.Published, Is.Empty);
        var history = await (await bench.NewStoreAsync()).HistoryAsync(new ScheduleId(Agent, "broken"), 100, CancellationToken.None);
        Assert.That(history.Select(e => (e.Kind, e.Due)).Reverse(), Is.EqualTo(new[]
        {
            (ScheduleEntryKind.Refused, At("2026-12-07T12:00:02Z")),
            (ScheduleEntryKind.Refused, At("2026-12-07T12:00:04Z")),
            (ScheduleEntryKind.Refused, At("2026-12-07T12:00:06Z")),
        }), "each due time is refused once, by one scheduler");
        Assert.That(history[0].Detail, Is.EqualTo("cannot map the payload to a run: the payload has no value at 'region.name'."));
    }

    [Test]
    public async Task Should_fire_a_due_time_whose_claimant_died_once_its_lease_runs_out()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("pulse", "0 * * * * *")),
            new ScheduleOptions { ClaimLease = TimeSpan.FromSeconds(20) });
        var survivor = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(survivor);
        var id = new ScheduleId(Agent, "pulse");
        var due = At("2026-12-07T12:01:00Z");

        // Another replica claimed 12:01 and died before publishing.
        bench.Clock.SetUtcNow(due);
        Assert.That(await (await bench.NewStoreAsync()).ClaimAsync(id, due, "dead-replica", due, TimeSpan.FromSeconds(20), CancellationToken.None), Is.EqualTo(ClaimOutcome.Claimed));
        await bench.RunUntilAsync(due.AddSeconds(19), TimeSpan.FromSeconds(1), survivor);
        Assert.That(bench.Published, Is.Empty, "the claim holds for its lease");

        await bench.RunUntilAsync(due.AddSeconds(21), TimeSpan.FromSeconds(1), survivor);

        Assert.That(bench.Published.Select(g => g.RunId), Is.EqualTo(new[] { ScheduleBench.RunIdOf(Agent, "pulse", due) }));
        Assert.That((await (await bench.NewStoreAsync()).GetAsync(id, CancellationToken.None))!.Fired, Is.EqualTo(1));
    }

    /// Europe/Berlin springs forward on 2027-03-28 at 02:00 CET (01:00 UTC) to 03:00 CEST: 02:30
    /// does not exist that day and fires once at the next valid instant, 03:00 CEST.
    [Test]
    public async Task Should_fire_a_local_time_that_does_not_exist_once_at_the_next_valid_instant()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(Schedule("nightly", "30 2 * * *", zone: "Europe/Berlin")));
        bench.Clock.SetUtcNow(At("2027-03-27T23:00:00Z"));
        var scheduler = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(scheduler);

        await bench.RunUntilAsync(At("2027-03-29T03:00:00Z"), TimeSpan.FromMinutes(5), scheduler);

        Assert.That(bench.Published.Select(g => g.Origin!.DueAt!.Value), Is.EqualTo(new[]
        {
            At("2027-03-28T01:00:00Z"), // 03:00 CEST, for the 02:30 that was skipped
            At("2027-03-29T00:30:00Z"), // 02:30 CEST, the next day
        }));
        Assert.That(bench.Published[0].Goal, Is.EqualTo("Report for 2027-03-28T03:00:00+02:00"));
    }

    /// Europe/Berlin falls back on 2027-10-31 at 03:00 CEST (01:00 UTC) to 02:00 CET: 02:30 occurs
    /// twice and a schedule at 02:30 fires once, at the first. A schedule that repeats within the hour
    /// keeps its interval through the repeated hour (each instant is a different one), without a loop.
    [Test]
    public async Task Should_fire_a_local_time_that_occurs_twice_once()
    {
        await using var bench = await ScheduleBench.StartAsync(store, Catalog(
            Schedule("nightly", "30 2 * * *", zone: "Europe/Berlin") + Environment.NewLine + Schedule("half-hourly", "*/30 * * * *", zone: "Europe/Berlin")));
        bench.Clock.SetUtcNow(At("2027-10-30T22:50:00Z"));
        var scheduler = await bench.NewSchedulerAsync();
        await ScheduleBench.PollAsync(scheduler);

        await bench.RunUntilAsync(At("2027-10-31T03:00:00Z"), TimeSpan.FromMinutes(5), scheduler);

        Assert.That(bench.Published.Where(g => g.Origin!.Name == "nightly").Select(g => (g.Origin!.DueAt!.Value, g.Goal)), Is.EqualTo(new[]
        {
            (At("2027-10-31T00:30:00Z"), "Report for 2027-10-31T02:30:00+02:00"),
        }));
        var halfHourly = bench.Published.Where(g => g.Origin!.Name == "half-hourly").Select(g => g.Origin!.DueAt!.Value).ToList();
        Assert.That(halfHourly, Is.EqualTo(Enumerable.Range(0, 9).Select(i => At("2027-10-30T23:00:00Z").AddMinutes(30 * i))),
            "every 30 minutes of real time, 02:00 and 02:30 both twice in local time, none repeated in UTC");
    }
}
