using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Schedules;

namespace Agentry.Distributed.Tests;

/// A schedule due every 2 s, two Gateway processes firing it over the same Redis, one of them
/// killed (SIGKILL) and started again in the middle: every due time in the window starts exactly
/// one run, none is fired twice and none is missed.
// Alone: run beside the bus watchdog's fixture, a due time fired around the kill of Gateway 1 was
// in the history as fired but its run never reached Memory (left open in the closing note of stop 34).
[NonParallelizable]
public sealed class When_a_schedule_fires_on_two_gateways
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private string _agents = null!;

    [SetUp]
    public async Task WriteAgents()
    {
        _agents = Directory.CreateTempSubdirectory("agentry-agents-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_agents, "pulse.yaml"), """
            description: Answers a sum on a schedule.
            instructions: Use the calculator.
            tools: [calculator]
            triggers:
              - name: every-two-seconds
                schedule: "*/2 * * * * *"
                goal: "What is 2 + 3? (due {{due_utc}})"
            """);
    }

    [TearDown]
    public void RemoveAgents() => Directory.Delete(_agents, recursive: true);

    [Test]
    public async Task Should_start_one_run_per_due_time_while_a_gateway_is_killed_and_restarted()
    {
        await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
        {
            ["Agents__Path"] = _agents,
            ["Triggers__Schedules__Enabled"] = "true",
            // A schedule's state of its own in the shared Redis; a lease short enough that a due
            // time claimed by the killed Gateway is taken over well within the misfire grace.
            ["Triggers__Schedules__KeyPrefix"] = $"agentry-test:{Guid.NewGuid():N}:",
            ["Triggers__Schedules__ClaimLease"] = "00:00:05",
        });
        await deployment.StartAnotherAsync("Gateway", "2");
        using var http = await deployment.GatewayClientAsync("2");

        async Task<IReadOnlyList<ScheduleEntry>> HistoryAsync() =>
            (await http.GetFromJsonAsync<ScheduleHistory>("/schedules/pulse/every-two-seconds/history?limit=1000", Web))!.Entries;

        async Task WaitForFiresAsync(int count, string when)
        {
            var waited = Stopwatch.StartNew();
            while ((await HistoryAsync()).Count(e => e.Kind == ScheduleEntryKind.Fired) < count)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(60))
                {
                    Assert.Fail($"{count} fires did not happen {when} within 60 s.{Environment.NewLine}{await deployment.DescribeAsync()}{deployment.Logs}");
                }

                await Task.Delay(200);
            }
        }

        await WaitForFiresAsync(3, "with both Gateways up");
        var victim = deployment.Get("Gateway", "1");
        await victim.KillAsync();
        TestContext.Progress.WriteLine($"Gateway 1 killed after {(await HistoryAsync()).Count} entries; Gateway 2 fires alone.");
        await WaitForFiresAsync(5, "with Gateway 1 killed");
        await victim.StartAsync();
        var afterRestart = (await HistoryAsync()).Count;
        await WaitForFiresAsync(afterRestart + 3, "after Gateway 1 restarted");

        var history = (await HistoryAsync()).Reverse().ToList();
        Assert.That(history.Select(e => e.Kind), Is.All.EqualTo(ScheduleEntryKind.Fired), "nothing was missed, skipped or refused: " + string.Join(", ", history));
        var due = history.Select(e => e.Due).ToList();
        Assert.That(due, Is.Unique, "a due time fired twice");
        var expected = Enumerable.Range(0, (int)((due[^1] - due[0]).TotalSeconds / 2) + 1).Select(i => due[0].AddSeconds(2 * i)).ToList();
        Assert.That(due, Is.EqualTo(expected), "every due time from the first fire to the last fired once, in order");
        Assert.That(history.Select(e => e.RunId), Is.EqualTo(due.Select(d => (Guid?)TriggeredRuns.RunIdOf("pulse", "every-two-seconds", ScheduleFiring.Of(d)))));

        // Each run started, with its schedule and due time recorded in it.
        foreach (var entry in history)
        {
            var waited = Stopwatch.StartNew();
            var lastAnswer = "";
            // The latest fire's run may not be recorded by Memory yet (404 until it is): read until it is.
            async Task<RunView?> ReadAsync()
            {
                using var response = await http.GetAsync($"/runs/{entry.RunId}");
                lastAnswer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<RunView>(Web) : null;
            }

            var run = await ReadAsync();
            while (run is not { Found: true, Trigger: not null } && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
                run = await ReadAsync();
            }

            Assert.That(run, Is.Not.Null, $"run {entry.RunId} for {entry.Due:O} was not readable within 60 s; the Gateway last answered {lastAnswer}{Environment.NewLine}{await deployment.DescribeAsync()}{deployment.Logs}");
            Assert.That((run!.Found, run.Trigger, run.Origin?.Name, run.Origin?.DueAt), Is.EqualTo((true, (TriggerKind?)TriggerKind.Schedule, "every-two-seconds", (DateTimeOffset?)entry.Due)),
                $"run {entry.RunId} for {entry.Due:O}");
        }

        var schedule = (await http.GetFromJsonAsync<ScheduleList>("/schedules", Web))!.Schedules.Single();
        Assert.That((schedule.Missed, schedule.Skipped, schedule.Refused, schedule.NextFires.Count), Is.EqualTo((0L, 0L, 0L, 3)));
        Assert.That(schedule.Fired, Is.GreaterThanOrEqualTo(history.Count));
    }
}
