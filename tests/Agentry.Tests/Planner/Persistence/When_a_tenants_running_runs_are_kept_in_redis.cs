using Agentry.Contracts;

namespace Agentry.Tests.Planner.Persistence;

/// Tenants:MaxConcurrentRuns at 1 on the Planner as it is registered with Redis: the slots live in
/// Redis, each held until its run's deadline and a grace, an escalated run's for the retention.
public sealed class When_a_tenants_running_runs_are_kept_in_redis : RedisAgentRunSagaFixture
{
    protected override (string Key, string Value)[] Settings => [("Tenants:MaxConcurrentRuns", "1")];

    [Test]
    public async Task Should_hold_a_slot_per_run_in_redis_refuse_the_run_over_the_limit_and_free_the_slot_at_the_end()
    {
        var first = await Start();
        var started = await StoredIn(first, m => m.LoadingContext);
        Assert.That(await SlotUntil(first), Is.EqualTo((started.Deadline + TimeSpan.FromMinutes(5)).ToUnixTimeMilliseconds()), "held until its deadline and the grace");
        Assert.That(await Redis.Database.KeyTimeToLiveAsync(SlotsKey), Is.Not.Null, "a tenant's slots outlive its runs");

        var refused = await Start();
        Assert.That((await StoredIn(refused, m => m.Failed)).LastReason, Does.StartWith($"Tenant '{Tenant}' is at its limit of 1 concurrent runs (Tenants:MaxConcurrentRuns)"));
        Assert.That(await SlotUntil(refused), Is.Null);

        await Deliver(ProposeAnswer(first, 1, "maybe 5"));
        await Deliver(Verdict(first, 1, Contracts.Verdict.Escalate));
        await StoredIn(first, m => m.Escalated);
        Assert.That(await SlotUntil(first), Is.EqualTo((Clock.GetUtcNow() + Defaults.FinishedRunRetention).ToUnixTimeMilliseconds()), "an escalated run's slot goes when the run does");

        await Deliver(new CloseRun(first, Tenant, "Done by hand.", "alice"));
        await StoredIn(first, m => m.Completed);
        Assert.That(await Redis.Database.KeyExistsAsync(SlotsKey), Is.False);
        await StoredIn(await Start(), m => m.LoadingContext);
    }

    private string SlotsKey => $"{KeyPrefix}tenant-runs:{Tenant}";

    private Task<double?> SlotUntil(Guid runId) => Redis.Database.SortedSetScoreAsync(SlotsKey, runId.ToString("D"));
}
