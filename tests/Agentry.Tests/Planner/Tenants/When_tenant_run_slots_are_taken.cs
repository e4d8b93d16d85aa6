using Agentry.Planner.Persistence;
using Agentry.Planner.Tenants;
using MassTransit;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Planner.Tenants;

/// The tenant slot store's contract, on both backends: a tenant's runs never hold more slots than
/// its limit, a run holds at most one, and a slot comes back when its run gives it back or its time
/// passes. On Redis, two connections stand for two Planners.
[TestFixture("memory")]
[TestFixture("redis")]
public sealed class When_tenant_run_slots_are_taken(string backend)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private TestRedis? _redis;
    private StackExchange.Redis.ConnectionMultiplexer? _other;
    private FakeTimeProvider _clock = null!;
    private ITenantRunSlots _planner = null!;
    private ITenantRunSlots _otherPlanner = null!;

    private DateTimeOffset InAMinute => _clock.GetUtcNow() + TimeSpan.FromMinutes(1);

    [SetUp]
    public async Task CreateStores()
    {
        // Behind the real clock, as the saga tests' clock is: nothing may depend on Redis's time of day.
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        if (backend == "memory")
        {
            _planner = _otherPlanner = new InMemoryTenantRunSlots(_clock);
            return;
        }

        _redis = await TestRedis.ConnectAsync();
        _other = await TestRedis.ConnectAnotherAsync();
        var options = Options.Create(new PlannerRedisOptions { KeyPrefix = _redis.NewKeyPrefix() });
        _planner = new RedisTenantRunSlots(_redis.Multiplexer, options, _clock);
        _otherPlanner = new RedisTenantRunSlots(_other, options, _clock);
    }

    [TearDown]
    public async Task Disconnect()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
            await _other!.DisposeAsync();
        }
    }

    [Test]
    public async Task Should_give_a_tenant_slots_up_to_its_limit_and_no_more()
    {
        Assert.That(await _planner.TryTakeAsync("acme", NewId.NextGuid(), 2, InAMinute, None), Is.True);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 2, InAMinute, None), Is.True);

        Assert.That(await _planner.TryTakeAsync("acme", NewId.NextGuid(), 2, InAMinute, None), Is.False);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 3, InAMinute, None), Is.True, "a higher limit leaves room");
        Assert.That(await _planner.TryTakeAsync("globex", NewId.NextGuid(), 1, InAMinute, None), Is.True, "each tenant on its own");
        Assert.That((await _planner.CountAsync("acme", None), await _planner.CountAsync("globex", None), await _planner.CountAsync("initech", None)), Is.EqualTo((3, 1, 0)));
    }

    [Test]
    public async Task Should_give_a_run_that_holds_a_slot_the_same_one_again_at_the_limit()
    {
        var run = NewId.NextGuid();
        Assert.That(await _planner.TryTakeAsync("acme", run, 1, InAMinute, None), Is.True);

        Assert.That(await _otherPlanner.TryTakeAsync("acme", run, 1, InAMinute, None), Is.True, "a redelivered goal was refused its own slot");
        Assert.That(await _planner.CountAsync("acme", None), Is.EqualTo(1), "the run holds two slots");
    }

    [Test]
    public async Task Should_free_a_released_slot_and_release_again_harmlessly()
    {
        var run = NewId.NextGuid();
        await _planner.TryTakeAsync("acme", run, 1, InAMinute, None);

        await _otherPlanner.ReleaseAsync("acme", run, None);
        await _planner.ReleaseAsync("acme", run, None);
        await _planner.ReleaseAsync("acme", NewId.NextGuid(), None);
        await _planner.ReleaseAsync("initech", run, None);

        Assert.That(await _planner.CountAsync("acme", None), Is.Zero);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.True);
    }

    [Test]
    public async Task Should_never_give_more_slots_than_the_limit_to_many_runs_starting_at_once()
    {
        const int limit = 5;
        var stores = new[] { _planner, _otherPlanner };

        var taken = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            Task.Run(() => stores[i % 2].TryTakeAsync("acme", NewId.NextGuid(), limit, InAMinute, None))));

        Assert.That(taken.Count(t => t), Is.EqualTo(limit));
        Assert.That(await _planner.CountAsync("acme", None), Is.EqualTo(limit));
    }

    [Test]
    public async Task Should_free_a_slot_nobody_gave_back_once_its_time_has_passed()
    {
        var leaked = NewId.NextGuid();
        await _planner.TryTakeAsync("acme", leaked, 1, InAMinute, None);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.False);

        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.That(await _planner.CountAsync("acme", None), Is.Zero);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.True);
        Assert.That(await _otherPlanner.TryTakeAsync("acme", leaked, 1, InAMinute, None), Is.False, "the expired run's slot went to another");
    }

    [Test]
    public async Task Should_hold_a_slot_to_a_new_time_whatever_the_limit()
    {
        var run = NewId.NextGuid();
        await _planner.TryTakeAsync("acme", run, 1, InAMinute, None);

        await _otherPlanner.HoldAsync("acme", run, _clock.GetUtcNow() + TimeSpan.FromMinutes(10), None);
        await _otherPlanner.HoldAsync("acme", NewId.NextGuid(), InAMinute, None);
        _clock.Advance(TimeSpan.FromMinutes(5));

        Assert.That(await _planner.CountAsync("acme", None), Is.EqualTo(1), "the held slot expired at its first time, or the second run's did not");
        Assert.That(await _planner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.False);
    }

    [Test]
    public async Task Should_hold_an_escalated_runs_slot_for_as_long_as_the_run_is_kept()
    {
        var run = NewId.NextGuid();
        await _planner.TryTakeAsync("acme", run, 1, InAMinute, None);

        await _planner.HoldAsync("acme", run, until: null, None);
        _clock.Advance(new PlannerRedisOptions().FinishedRunRetention - TimeSpan.FromMinutes(1));

        Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.False);
        if (backend == "redis")
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            Assert.That(await _otherPlanner.TryTakeAsync("acme", NewId.NextGuid(), 1, InAMinute, None), Is.True, "Redis no longer keeps the run");
        }
    }
}
