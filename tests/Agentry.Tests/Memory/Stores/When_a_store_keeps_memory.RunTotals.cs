using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

public sealed partial class When_a_store_keeps_memory
{
    [Test]
    public async Task Should_total_a_tenants_runs_per_agent_per_day_within_the_window()
    {
        // A tenant of this test's own: the store is shared by the fixture's tests.
        var tenant = $"totals-{Guid.NewGuid():N}";
        var transcripts = Store.Transcripts;
        var (day1, day2) = (At, At.AddDays(1));

        async Task RunAsync(string agent, DateTimeOffset started, RunStatus? ended = null, TokenUsage? usage = null, decimal cost = 0m, string? inTenant = null)
        {
            var run = Guid.NewGuid();
            await transcripts.StartRunAsync(new RunStart(run, inTenant ?? tenant, agent, "goal", null, started), None);
            if (ended is { } status)
            {
                await transcripts.EndRunAsync(new RunEnd(run, inTenant ?? tenant, agent, status, null, null, 1, usage ?? TokenUsage.None, started.AddMinutes(5), cost), None);
            }
        }

        await RunAsync("assistant", day1, RunStatus.Completed, new TokenUsage(30, 3), 0.25m);
        await RunAsync("assistant", day1.AddHours(1), RunStatus.Failed, new TokenUsage(5, 1), 0.5m);
        await RunAsync("assistant", day1.AddHours(2));
        await RunAsync("reporter", day1.AddHours(3), RunStatus.Escalated, new TokenUsage(7, 2), 0.01m);
        await RunAsync("assistant", day2, RunStatus.Completed, new TokenUsage(10, 1), 0.1000000000001m);
        await RunAsync("assistant", day2.AddHours(1), RunStatus.Completed, new TokenUsage(10, 1), 0.2m);
        // Known only from its end so far: it counts on the day it ended.
        await transcripts.EndRunAsync(new RunEnd(Guid.NewGuid(), tenant, "assistant", RunStatus.Cancelled, null, "stopped", 0, new TokenUsage(1, 1), day2.AddHours(2), 0.05m), None);
        // Outside the window, or another tenant's.
        await RunAsync("assistant", day1.AddSeconds(-1), RunStatus.Completed, new TokenUsage(1000, 1000), 9m);
        await RunAsync("assistant", day2.AddDays(1), RunStatus.Completed, new TokenUsage(1000, 1000), 9m);
        await RunAsync("assistant", day1, RunStatus.Completed, new TokenUsage(1000, 1000), 9m, inTenant: "another-" + tenant);

        var totals = await transcripts.TotalsAsync(new GetRunTotals(tenant, day1, day2.AddDays(1), Agent: null), None);

        var (d1, d2) = (DateOnly.FromDateTime(day1.UtcDateTime), DateOnly.FromDateTime(day2.UtcDateTime));
        Assert.That(totals, Is.EqualTo(new[]
        {
            new AgentDayTotals("assistant", d1, Runs: 3, Completed: 1, Failed: 1, Escalated: 0, Cancelled: 0, Running: 1, SuccessRate: 0.5, new TokenUsage(35, 4), 0.75m),
            new AgentDayTotals("reporter", d1, Runs: 1, Completed: 0, Failed: 0, Escalated: 1, Cancelled: 0, Running: 0, SuccessRate: 0, new TokenUsage(7, 2), 0.01m),
            new AgentDayTotals("assistant", d2, Runs: 3, Completed: 2, Failed: 0, Escalated: 0, Cancelled: 1, Running: 0, SuccessRate: 2 / 3.0, new TokenUsage(21, 3), 0.3500000000001m),
        }));

        var reporter = await transcripts.TotalsAsync(new GetRunTotals(tenant, day1, day2.AddDays(1), "reporter"), None);
        Assert.That(reporter.Select(t => (t.Agent, t.Runs)), Is.EqualTo(new[] { ("reporter", 1) }));

        var running = await transcripts.TotalsAsync(new GetRunTotals(tenant, day1.AddHours(2), day1.AddHours(3), "assistant"), None);
        Assert.That(running.Single(), Is.EqualTo(new AgentDayTotals("assistant", d1, 1, 0, 0, 0, 0, Running: 1, SuccessRate: null, TokenUsage.None, 0m)), "a window of only a running run has no success rate yet");
        Assert.That(await transcripts.TotalsAsync(new GetRunTotals(tenant, day2.AddDays(2), day2.AddDays(3), null), None), Is.Empty);
    }
}
