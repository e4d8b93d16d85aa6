using Agentry.Agents.Evaluation;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Online;
using Agentry.Evaluation.Stores.Sqlite;
using Agentry.Evaluator;
using Agentry.Evaluator.Online;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Tests.Evaluation.Online;

/// The alert rule over both stores: consecutive windows of scored runs, each compared once with the
/// window before, a run stored once however often it arrives.
public sealed class When_online_scores_fall_into_windows
{
    private static readonly OnlineAlert Alert = new(Window: 2, Drop: 0.2);

    public static IEnumerable<TestCaseData> Stores()
    {
        yield return new TestCaseData((Func<TempFolder, IOnlineGradeStore>)(_ => new InMemoryOnlineGradeStore())).SetArgDisplayNames("in memory");
        yield return new TestCaseData((Func<TempFolder, IOnlineGradeStore>)(folder => new SqliteOnlineGradeStore(folder.SqliteConnectionString))).SetArgDisplayNames("sqlite");
        yield return new TestCaseData((Func<TempFolder, IOnlineGradeStore>)(_ => RedisStore())).SetArgDisplayNames("redis");
    }

    /// A store of its own under a new key prefix, as every Evaluator of one deployment shares one.
    private static RedisOnlineGradeStore RedisStore(string? keyPrefix = null, IConnectionMultiplexer? connection = null, int kept = RedisOnlineGradeStore.KeptPerAgent) =>
        new(connection ?? Redis.Value, Options.Create(new EvaluatorRedisOptions { KeyPrefix = keyPrefix ?? $"agentry-test:{Guid.NewGuid():N}:" }), kept);

    private static readonly Lazy<IConnectionMultiplexer> Redis = new(() => ConnectionMultiplexer.Connect(TestServers.RequireRedis()));

    private static OnlineRunGrades Run(double? score) =>
        new(Guid.NewGuid(), "agent", "t", DateTimeOffset.UnixEpoch, score,
            score is { } s ? [new Grade("answer", s, s == 1, "why")] : [new Grade("rubric", 0, false, "down", new Dictionary<string, string> { [Grade.NotGradedKey] = "true" })]);

    private static async Task<List<OnlineScoreDropped?>> RecordAllAsync(IOnlineGradeStore store, params double?[] scores)
    {
        var drops = new List<OnlineScoreDropped?>();
        foreach (var score in scores)
        {
            var (stored, _) = await store.RecordAsync(Run(score), CancellationToken.None);
            drops.Add(await OnlineWindows.DropAsync(store, stored, Alert, CancellationToken.None));
        }

        return drops;
    }

    [TestCaseSource(nameof(Stores))]
    public async Task Should_alert_once_when_a_window_falls_by_the_drop_and_not_when_it_falls_less(Func<TempFolder, IOnlineGradeStore> create)
    {
        using var folder = new TempFolder();
        var store = create(folder);

        // Windows: (1, 0.9) mean 0.95; (0.8, 0.8) 0.8, down 0.15; (0.6, 0.6) 0.6, down 0.2; a run without a score in between.
        var drops = await RecordAllAsync(store, 1, 0.9, 0.8, 0.8, 0.6, null, 0.6);

        var raised = drops.OfType<OnlineScoreDropped>().ToList();
        Assert.That(raised, Has.Count.EqualTo(1));
        Assert.That(raised[0].WindowEnd, Is.EqualTo(6));
        Assert.That(raised[0].BaselineMean, Is.EqualTo(0.8).Within(1e-9));
        Assert.That(raised[0].WindowMean, Is.EqualTo(0.6).Within(1e-9));
        Assert.That(drops[^1], Is.SameAs(raised[0]), "the run that closed the window raised it");
    }

    [TestCaseSource(nameof(Stores))]
    public async Task Should_store_a_run_once_and_give_it_one_place(Func<TempFolder, IOnlineGradeStore> create)
    {
        using var folder = new TempFolder();
        var store = create(folder);
        var run = Run(0.5);

        var first = await store.RecordAsync(run, CancellationToken.None);
        var again = await store.RecordAsync(run with { Score = 1 }, CancellationToken.None);
        var unscored = await store.RecordAsync(Run(null), CancellationToken.None);

        Assert.That((first.IsNew, first.Stored.Sequence), Is.EqualTo((true, 1L)));
        Assert.That((again.IsNew, again.Stored.Sequence, again.Stored.Score), Is.EqualTo((false, 1L, (double?)0.5)));
        Assert.That(unscored.Stored.Sequence, Is.Zero, "a run without a score takes no place in a window");
        Assert.That(unscored.Stored.Grades.Single().NotGraded, Is.True);
        Assert.That((await store.LatestAsync("agent", 10, CancellationToken.None)).Select(r => r.RunId), Is.EqualTo(new[] { unscored.Stored.RunId, run.RunId }));
    }

    [Test]
    public async Task Should_give_runs_recorded_by_two_evaluators_at_once_one_place_each_in_redis()
    {
        var prefix = $"agentry-test:{Guid.NewGuid():N}:";
        await using var other = await TestRedis.ConnectAnotherAsync();
        var replicas = new[] { RedisStore(prefix), RedisStore(prefix, other) };
        var runs = Enumerable.Range(0, 200).Select(i => Run(i % 10 == 0 ? null : 0.5)).ToList();

        // Each run arrives at both replicas, as a redelivery after a lost ack would.
        var stored = await Task.WhenAll(runs.SelectMany(run => replicas.Select(replica => Task.Run(() => replica.RecordAsync(run, CancellationToken.None)))));

        var places = stored.Where(s => s.IsNew).Select(s => s.Stored.Sequence).Where(s => s > 0).Order().ToList();
        Assert.That(stored.Count(s => s.IsNew), Is.EqualTo(runs.Count), "each run recorded once");
        Assert.That(places, Is.EqualTo(Enumerable.Range(1, 180).Select(i => (long)i)), "one place per scored run, none twice, none skipped");
        Assert.That(stored.GroupBy(s => s.Stored.RunId).All(g => g.Select(s => s.Stored.Sequence).Distinct().Count() == 1), "both replicas see the same place");
        Assert.That((await replicas[1].ScoredAsync("agent", 1, 180, CancellationToken.None)).Select(r => r.Sequence), Is.EqualTo(places));
    }

    [Test]
    public async Task Should_forget_runs_older_than_the_two_windows_it_keeps_in_redis()
    {
        var store = RedisStore(kept: 4);
        var runs = new List<OnlineRunGrades>();
        foreach (var score in new double?[] { 1, 1, null, 0.5, 0.5, 0.5, 0.5 })
        {
            runs.Add((await store.RecordAsync(Run(score), CancellationToken.None)).Stored);
        }

        Assert.That((await store.ScoredAsync("agent", 1, 6, CancellationToken.None)).Select(r => r.Sequence), Is.EqualTo(new long[] { 3, 4, 5, 6 }));
        Assert.That((await store.LatestAsync("agent", 10, CancellationToken.None)).Select(r => r.RunId), Is.EqualTo(runs.AsEnumerable().Reverse().Take(4).Select(r => r.RunId)));
        Assert.That(await store.GetAsync(runs[0].RunId, CancellationToken.None), Is.Null, "a run in neither list is deleted");
        Assert.That(await store.GetAsync(runs[2].RunId, CancellationToken.None), Is.Null, "the unscored run fell out of the latest");
    }
}
