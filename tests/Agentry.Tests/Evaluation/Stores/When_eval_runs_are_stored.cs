using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Stores.Mongo;
using Agentry.Evaluation.Stores.Sqlite;
using Agentry.Tests.Memory.Stores;

namespace Agentry.Tests.Evaluation.Stores;

/// The eval result store contract: every store (SQLite always, MongoDB where one is reachable, else
/// reported NOT RUN) gives back a run exactly as saved, lists runs newest first with the totals of
/// their records, by dataset and up to a limit, and replaces a run saved again.
[TestFixture("sqlite")]
[TestFixture("mongodb")]
public sealed class When_eval_runs_are_stored(string backend)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset At = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IEvalResultStore? _store;
    private string? _notRun;
    private Func<Task> _dispose = () => Task.CompletedTask;

    private IEvalResultStore Store => _store ?? throw new IgnoreException(_notRun ?? "the store was not opened");

    [SetUp]
    public async Task Open()
    {
        if (backend == "sqlite")
        {
            var folder = new TempFolder();
            _store = new SqliteEvalResultStore(folder.SqliteConnectionString);
            _dispose = () =>
            {
                folder.Dispose();
                return Task.CompletedTask;
            };
            return;
        }

        var (database, drop, notRun) = await MongoBackend.OpenDatabaseAsync("Only the SQLite eval result store was tested.");
        _notRun = notRun;
        _store = database is null ? null : new MongoEvalResultStore(database);
        _dispose = drop;
    }

    [TearDown]
    public Task Close() => _dispose();

    /// A run of the dataset whose cases pass as given: each case one trial,
    /// with grades, tokens, costs and latencies that differ, so that sums and percentiles show.
    internal static EvalRunRecord Run(string dataset, DateTimeOffset startedAt, params bool[] passes) => new(
        Guid.NewGuid(), dataset, $"agents/evals/{dataset}.yaml", "1@0a1a6bdc349c", $"{dataset}@44ab47d916a7", "agentry-offline", "agentry-offline", "2f1909eb24fc", 1,
        startedAt, TimeSpan.FromSeconds(3.25),
        [.. passes.Select((passed, i) => new CaseResult($"case-{i}", dataset, $"Goal {i}", 0.5,
            [.. Enumerable.Range(1, 1).Select(trial => new TrialResult(trial, Guid.NewGuid(), passed ? RunStatus.Completed : RunStatus.Failed, $"answer {i}.{trial}",
                [new Grade("status", passed ? 1 : 0, passed, passed ? "completed" : "the run failed"),
                 new Grade("rubric", 0.75, true, "plain", new Dictionary<string, string> { [Grade.JudgeCostKey] = "0.0003" })],
                2, 100 * (i + 1) + trial, 0.0011m * (i + 1), TimeSpan.FromMilliseconds(400 * (i + 1) + trial)) { Models = ["agentry-offline"] })]))]);

    [Test]
    public async Task Should_give_back_a_run_exactly_as_it_was_saved()
    {
        var run = Run("assistant", At, true, false, true);
        await Store.SaveAsync(run, None);

        var stored = await Store.GetAsync(run.Id, None);

        Assert.That(JsonSerializer.Serialize(stored, Json), Is.EqualTo(JsonSerializer.Serialize(run, Json)));
        Assert.That((stored!.StartedAt, stored.CasesPassed, stored.Cost, stored.JudgeCost), Is.EqualTo((run.StartedAt, 2, run.Cost, run.JudgeCost)));
        Assert.That(await Store.GetAsync(Guid.NewGuid(), None), Is.Null);
    }

    [Test]
    public async Task Should_list_runs_newest_first_with_the_totals_of_their_records()
    {
        var oldest = Run("assistant", At.AddTicks(1), true, true);
        var middle = Run("handbook", At.AddMinutes(1), true, false, false);
        var newest = Run("assistant", At.AddMinutes(2).AddTicks(3), false, true, true);
        foreach (var run in new[] { middle, newest, oldest })
        {
            await Store.SaveAsync(run, None);
        }

        var all = await Store.ListAsync(dataset: null, 10, None);

        Assert.That(all.Select(s => s.Id), Is.EqualTo(new[] { newest.Id, middle.Id, oldest.Id }));
        Assert.That(all, Is.EqualTo(new[] { EvalRunSummary.Of(newest), EvalRunSummary.Of(middle), EvalRunSummary.Of(oldest) }), "every total as the record computes it, times to the tick");
        Assert.That(all[0].Cost, Is.EqualTo(0.0011m + 0.0022m + 0.0033m));
        Assert.That((all[1].CasesPassed, all[1].Cases, all[1].PassRate), Is.EqualTo((1, 3, 1.0 / 3)));
        Assert.That((await Store.ListAsync("assistant", 10, None)).Select(s => s.Id), Is.EqualTo(new[] { newest.Id, oldest.Id }));
        Assert.That((await Store.ListAsync("assistant", 1, None)).Select(s => s.Id), Is.EqualTo(new[] { newest.Id }));
        Assert.That(await Store.ListAsync("nobody", 10, None), Is.Empty);
    }

    [Test]
    public async Task Should_replace_a_run_saved_again()
    {
        var run = Run("assistant", At, true);
        await Store.SaveAsync(run, None);
        var regraded = run with { Cases = [.. Run("assistant", At, false).Cases] };

        await Store.SaveAsync(regraded, None);

        Assert.That((await Store.ListAsync(null, 10, None)).Select(s => (s.Id, s.CasesPassed)), Is.EqualTo(new[] { (run.Id, 0) }));
        Assert.That((await Store.GetAsync(run.Id, None))!.CasesPassed, Is.EqualTo(0));
    }
}
