using Agentry.Agents.Evaluation;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Online;
using Agentry.Evaluation.Stores.Sqlite;

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
    }

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
}
