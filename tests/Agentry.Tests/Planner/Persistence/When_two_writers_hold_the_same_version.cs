using Agentry.Planner.Persistence;
using MassTransit;

namespace Agentry.Tests.Planner.Persistence;

/// The store's conditions, forced deterministically: two processes that loaded the same version,
/// or created the same instance, at the same time.
public sealed class When_two_writers_hold_the_same_version : RedisFixture
{
    private RedisSagaStore<TallyState> _store = null!;

    [SetUp]
    public void CreateStore() =>
        _store = new RedisSagaStore<TallyState>(Redis.Multiplexer, new RedisSagaRepositoryOptions<TallyState>(Redis.NewKeyPrefix(), t => t.CurrentState == "Done" ? TimeSpan.FromHours(2) : null));

    [Test]
    public async Task Should_refuse_the_second_update_and_keep_the_first()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id, Numbers = [1] });
        var first = (await _store.LoadAsync(id))!;
        var second = (await _store.LoadAsync(id))!;
        first.Instance.Numbers.Add(2);
        second.Instance.Numbers.Add(3);

        await _store.UpdateAsync(first.Instance, first.Baseline);
        var conflict = Assert.ThrowsAsync<ConcurrencyException>(() => _store.UpdateAsync(second.Instance, second.Baseline));

        Assert.That(conflict!.Message, Does.Contain("version 1"));
        var stored = (await _store.LoadAsync(id))!.Instance;
        Assert.That((stored.Numbers, stored.Version), Is.EqualTo((new List<int> { 1, 2 }, 2)));
    }

    [Test]
    public async Task Should_apply_the_refused_change_once_reloaded()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id });
        var first = (await _store.LoadAsync(id))!;
        var second = (await _store.LoadAsync(id))!;
        first.Instance.Numbers.Add(1);
        second.Instance.Numbers.Add(2);
        await _store.UpdateAsync(first.Instance, first.Baseline);
        Assert.ThrowsAsync<ConcurrencyException>(() => _store.UpdateAsync(second.Instance, second.Baseline));

        var retried = (await _store.LoadAsync(id))!;
        retried.Instance.Numbers.Add(2);
        await _store.UpdateAsync(retried.Instance, retried.Baseline);

        Assert.That((await _store.LoadAsync(id))!.Instance.Numbers, Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public async Task Should_not_overwrite_an_instance_created_at_the_same_time()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id, Numbers = [1] });

        Assert.That(await _store.InsertAsync(new TallyState { CorrelationId = id, Numbers = [2] }), Is.False);
        Assert.ThrowsAsync<ConcurrencyException>(() => _store.InsertOrConflictAsync(new TallyState { CorrelationId = id, Numbers = [3] }));

        var stored = (await _store.LoadAsync(id))!.Instance;
        Assert.That((stored.Numbers, stored.Version), Is.EqualTo((new List<int> { 1 }, 1)));
    }

    [Test]
    public async Task Should_write_nothing_when_nothing_changed()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id });
        var loaded = (await _store.LoadAsync(id))!;

        await _store.UpdateAsync(loaded.Instance, loaded.Baseline);

        Assert.That((await _store.LoadAsync(id))!.Instance.Version, Is.EqualTo(1));
    }

    [Test]
    public async Task Should_refuse_to_delete_an_instance_changed_since_it_was_loaded()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id });
        var stale = (await _store.LoadAsync(id))!;
        var current = (await _store.LoadAsync(id))!;
        current.Instance.Count = 1;
        await _store.UpdateAsync(current.Instance, current.Baseline);

        Assert.ThrowsAsync<ConcurrencyException>(() => _store.DeleteAsync(stale.Instance));
        await _store.DeleteAsync(current.Instance);

        Assert.That(await _store.LoadAsync(id), Is.Null);
    }

    [Test]
    public async Task Should_expire_an_instance_only_once_the_expiry_asks_for_it()
    {
        var id = NewId.NextGuid();
        await _store.InsertOrConflictAsync(new TallyState { CorrelationId = id, CurrentState = "Counting" });
        var key = _store.Options.KeyOf(id);
        Assert.That(await Redis.Database.KeyTimeToLiveAsync(key), Is.Null);

        var loaded = (await _store.LoadAsync(id))!;
        loaded.Instance.CurrentState = "Done";
        await _store.UpdateAsync(loaded.Instance, loaded.Baseline);

        Assert.That(await Redis.Database.KeyTimeToLiveAsync(key), Is.Not.Null.And.InRange(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2)));
    }
}
