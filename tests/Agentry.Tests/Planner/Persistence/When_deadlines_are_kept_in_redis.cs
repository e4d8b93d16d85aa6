using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using MassTransit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Tests.Planner.Persistence;

/// Run deadlines shared by several Planner processes: each process has its own connection and its
/// own RedisRunDeadlines, as it would in production.
public sealed class When_deadlines_are_kept_in_redis : RedisFixture
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private IOptions<PlannerRedisOptions> _options = null!;
    private readonly List<ConnectionMultiplexer> _connections = [];

    [SetUp]
    public void UseNewKeys() => _options = Options.Create(new PlannerRedisOptions { KeyPrefix = Redis.NewKeyPrefix() });

    [TearDown]
    public async Task CloseConnections()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        _connections.Clear();
    }

    /// A Planner process: a connection of its own and a store over it.
    private async Task<RedisRunDeadlines> Planner()
    {
        var connection = await TestRedis.ConnectAnotherAsync();
        _connections.Add(connection);
        return new RedisRunDeadlines(connection, _options);
    }

    [Test]
    public async Task Should_hand_out_due_deadlines_with_their_tenant_and_keep_the_others()
    {
        var deadlines = await Planner();
        var due = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(1));
        var exactlyNow = new RunDeadline(NewId.NextGuid(), "tenant-b", Now);
        var later = new RunDeadline(NewId.NextGuid(), "tenant-c", Now + TimeSpan.FromMilliseconds(1));
        foreach (var deadline in new[] { later, due, exactlyNow })
        {
            await deadlines.SetAsync(deadline, CancellationToken.None);
        }

        var taken = await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None);

        Assert.That(taken, Is.EqualTo(new[] { due, exactlyNow }));
        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.Empty, "a deadline was handed out twice");
        Assert.That(await deadlines.TakeDueAsync(later.Deadline, max: 10, CancellationToken.None), Is.EqualTo(new[] { later }));
    }

    [Test]
    public async Task Should_hand_each_due_deadline_to_exactly_one_of_two_competing_planners()
    {
        var setter = await Planner();
        var due = Enumerable.Range(0, 60).Select(i => new RunDeadline(NewId.NextGuid(), $"tenant-{i % 3}", Now - TimeSpan.FromSeconds(i))).ToList();
        var notDue = Enumerable.Range(1, 5).Select(i => new RunDeadline(NewId.NextGuid(), "tenant-x", Now + TimeSpan.FromMinutes(i))).ToList();
        await Task.WhenAll(due.Concat(notDue).Select(d => setter.SetAsync(d, CancellationToken.None)));
        var first = await Planner();
        var second = await Planner();

        var taken = await Task.WhenAll(TakeAll(first), TakeAll(second));

        Assert.That(taken[0].Intersect(taken[1]), Is.Empty, "both planners were handed the same deadline");
        Assert.That(taken[0].Concat(taken[1]), Is.EquivalentTo(due), "a due deadline was lost or a future one handed out");
        Assert.That(taken[0], Is.Not.Empty, "the first planner took nothing: the planners never competed");
        Assert.That(taken[1], Is.Not.Empty, "the second planner took nothing: the planners never competed");
    }

    [Test]
    public async Task Should_never_hand_out_a_removed_deadline()
    {
        var deadlines = await Planner();
        var kept = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(2));
        var removed = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(1));
        await deadlines.SetAsync(kept, CancellationToken.None);
        await deadlines.SetAsync(removed with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, CancellationToken.None);

        await deadlines.RemoveAsync(removed.RunId, CancellationToken.None);

        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.EqualTo(new[] { kept }));
        Assert.That(await Redis.Database.HashLengthAsync(_options.Value.DeadlineTenantsKey), Is.Zero, "a tenant entry was left behind");
        Assert.That(await Redis.Database.HashLengthAsync(_options.Value.DeadlineTracesKey), Is.Zero, "a trace context was left behind");
    }

    [Test]
    public async Task Should_keep_a_runs_approval_deadline_apart_from_its_own_deadline()
    {
        var deadlines = await Planner();
        var runId = NewId.NextGuid();
        var run = new RunDeadline(runId, "tenant-a", Now - TimeSpan.FromSeconds(1));
        var approval = new RunDeadline(runId, "tenant-a", Now - TimeSpan.FromSeconds(2), Kind: DeadlineKind.Approval);
        await deadlines.SetAsync(run, CancellationToken.None);
        await deadlines.SetAsync(approval, CancellationToken.None);

        // A second store (another Planner, or this one after a restart) hands out both, each as what it is.
        Assert.That(await (await Planner()).TakeDueAsync(Now, max: 10, CancellationToken.None), Is.EqualTo(new[] { approval, run }));

        await deadlines.SetAsync(run, CancellationToken.None);
        await deadlines.SetAsync(approval, CancellationToken.None);
        await deadlines.RemoveAsync(runId, DeadlineKind.Approval, CancellationToken.None);
        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.EqualTo(new[] { run }), "removing the approval deadline removed the run's");
    }

    [Test]
    public async Task Should_replace_a_deadline_that_is_set_again()
    {
        var deadlines = await Planner();
        var runId = NewId.NextGuid();
        await deadlines.SetAsync(new RunDeadline(runId, "tenant-a", Now - TimeSpan.FromSeconds(1)), CancellationToken.None);

        await deadlines.SetAsync(new RunDeadline(runId, "tenant-a", Now + TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.Empty);
        Assert.That(await deadlines.TakeDueAsync(Now + TimeSpan.FromMinutes(1), max: 10, CancellationToken.None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_hand_out_a_deadline_with_the_trace_context_it_was_set_in()
    {
        var deadlines = await Planner();
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var traced = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(1), traceParent);
        var untraced = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(2));
        await deadlines.SetAsync(traced, CancellationToken.None);
        await deadlines.SetAsync(untraced, CancellationToken.None);

        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.EqualTo(new[] { untraced, traced }));
        Assert.That(await Redis.Database.HashLengthAsync(_options.Value.DeadlineTracesKey), Is.Zero, "a trace context was left behind");
    }

    [Test]
    public async Task Should_forget_the_trace_context_of_a_deadline_set_again_without_one()
    {
        var deadlines = await Planner();
        var runId = NewId.NextGuid();
        await deadlines.SetAsync(new RunDeadline(runId, "tenant-a", Now, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), CancellationToken.None);

        await deadlines.SetAsync(new RunDeadline(runId, "tenant-a", Now), CancellationToken.None);

        Assert.That((await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None)).Single().TraceParent, Is.Null);
    }

    [Test]
    public async Task Should_hand_out_no_more_than_asked()
    {
        var deadlines = await Planner();
        for (var i = 0; i < 5; i++)
        {
            await deadlines.SetAsync(new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromSeconds(i)), CancellationToken.None);
        }

        Assert.That(await deadlines.TakeDueAsync(Now, max: 2, CancellationToken.None), Has.Count.EqualTo(2));
        Assert.That(await deadlines.TakeDueAsync(Now, max: 10, CancellationToken.None), Has.Count.EqualTo(3));
    }

    [Test]
    public async Task Should_keep_deadlines_across_a_restart()
    {
        var before = await Planner();
        var deadline = new RunDeadline(NewId.NextGuid(), "tenant-a", Now - TimeSpan.FromMilliseconds(1500));
        await before.SetAsync(deadline, CancellationToken.None);
        await _connections.Single().DisposeAsync();
        _connections.Clear();

        var after = await Planner();

        Assert.That(await after.TakeDueAsync(Now, max: 10, CancellationToken.None), Is.EqualTo(new[] { deadline }));
    }

    private static async Task<List<RunDeadline>> TakeAll(RedisRunDeadlines deadlines)
    {
        var taken = new List<RunDeadline>();
        while (await deadlines.TakeDueAsync(Now, max: 3, CancellationToken.None) is { Count: > 0 } batch)
        {
            taken.AddRange(batch);
        }

        return taken;
    }
}
