using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Evaluation.Online;
using Agentry.ServiceDefaults;
using Agentry.Tests.Llm;
using Agentry.Tests.Notifier;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Tests.Evaluation.Online;

/// Every service in one process (the embedded runtime) on the scripted model: completed runs go
/// through the real saga, Memory records them, and the Evaluator grades the sampled ones, stores
/// their grades in the SQLite file, records them as metrics, and reports a drop through the Notifier
/// to the agent's real webhook.
[NonParallelizable]
public sealed class When_production_runs_are_graded_online
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;
    private TestWebhook _webhook = null!;
    private IHost _host = null!;
    private MeterListener _listener = null!;
    private readonly ConcurrentQueue<(string Instrument, string Agent, string Grader, double Value)> _measured = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<RunCompleted>> _completed = new();
    private readonly ConcurrentDictionary<string, string> _answers = new();
    private readonly ConcurrentQueue<RunGraded> _published = new();

    [SetUp]
    public async Task StartAsync()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        _webhook = await TestWebhook.StartAsync();
        var agents = Directory.CreateDirectory(_folder.File("agents")).FullName;
        // Answers are to be numbers; a window of two graded runs whose mean falls by half is an alert.
        await File.WriteAllTextAsync(Path.Combine(agents, "counter.yaml"), $$"""
            instructions: Answer with a number only.
            notify:
              webhook: {{_webhook.Url}}
            evaluation:
              online:
                sample: 0.5
                checks:
                  matches: ['^\d+$']
                alert: { window: 2, drop: 0.5 }
            """);
        await File.WriteAllTextAsync(Path.Combine(agents, "judged.yaml"), """
            instructions: Answer with a number only.
            evaluation:
              online:
                sample: 1
                rubric: The answer is a single number.
                checks:
                  matches: ['^\d+$']
            """);
        // The model answers each run's planning call (the agent's instructions and the run's goal) with
        // the run's scripted answer, whatever else asks it; any other call, such as the judge's, fails.
        _fake.WhenEmpty = request => request.Body.Contains("Answer with a number only.", StringComparison.Ordinal)
            && _answers.FirstOrDefault(a => request.Body.Contains(a.Key, StringComparison.Ordinal)) is { Value: { } answer }
            ? FakeReply.Answer(answer)
            : FakeReply.Status(500, "no scripted answer");
        StartListening();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Agents:Path"] = agents,
            ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Model"] = "gpt-fake",
            ["Llm:MaxRetries"] = "0",
        });
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        _host = builder.Build();
        await _host.StartAsync();
        var bus = _host.Services.GetRequiredService<IBus>();
        await bus.ConnectReceiveEndpoint(e => e.Handler<RunCompleted>(c =>
            Task.FromResult(_completed.GetOrAdd(c.Message.RunId, _ => NewEnd()).TrySetResult(c.Message)))).Ready;
        await bus.ConnectReceiveEndpoint(e => e.Handler<RunGraded>(c =>
        {
            _published.Enqueue(c.Message);
            return Task.CompletedTask;
        })).Ready;
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _listener.Dispose();
        await _webhook.DisposeAsync();
        _fake.Dispose();
        _folder.Dispose();
    }

    private IOnlineGradeStore Store => _host.Services.GetRequiredService<IOnlineGradeStore>();

    [Test]
    public async Task Should_grade_the_sampled_runs_store_and_measure_their_scores_and_notify_one_drop()
    {
        // A run the sampler leaves out, first: by the time the later runs are graded, it would have been.
        var skipped = await RunAsync("counter", "not a number either", sampled: false);
        // Two good answers, then two bad: the second window's mean (0) is the first's (1) less 1.
        var graded = new List<RunCompleted>();
        foreach (var answer in new[] { "42", "7", "I do not know", "no idea" })
        {
            graded.Add(await RunAsync("counter", answer, sampled: true));
        }

        var stored = await Store.LatestAsync("counter", 10, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(stored.Select(s => s.RunId), Is.EquivalentTo(graded.Select(g => g.RunId)), "only the sampled runs are graded");
            Assert.That(stored.OrderBy(s => s.Sequence).Select(s => s.Score), Is.EqualTo(new double?[] { 1, 1, 0, 0 }));
            Assert.That(stored.OrderBy(s => s.Sequence).Select(s => s.Sequence), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
            Assert.That(stored.All(s => s.Grades.Single().Grader == "answer"), Is.True);
            Assert.That(stored.Any(s => s.RunId == skipped.RunId), Is.False);
            Assert.That(Measured("agentry.eval.online.score", "counter", "answer"), Is.EqualTo(new double[] { 1, 1, 0, 0 }));
            Assert.That(Measured("agentry.eval.online.score", "counter", "run"), Is.EqualTo(new double[] { 1, 1, 0, 0 }));
            Assert.That(Measured("agentry.eval.online.drops", "counter", ""), Is.EqualTo(new double[] { 1 }));
        });
        // Each graded run is published once, as stored, and Memory keeps it with the run.
        var published = await Eventually.Until(() => Task.FromResult(_published.Count >= graded.Count ? _published.ToList() : null), "a RunGraded per graded run");
        var transcripts = _host.Services.GetRequiredService<Agentry.Memory.ITranscriptStore>();
        var kept = await Eventually.Until(
            async () => (await Task.WhenAll(graded.Select(g => transcripts.GetAsync(g.RunId, CancellationToken.None)))) is var runs && runs.All(r => r.OnlineEvaluation is not null) ? runs : null,
            "Memory to keep the grades of every graded run");
        Assert.Multiple(() =>
        {
            Assert.That(published.Select(p => p.RunId), Is.EquivalentTo(graded.Select(g => g.RunId)), "once per graded run, none for the run left out");
            Assert.That(published.Select(p => (p.Score, p.Sequence, p.Agent, p.TenantId)), Is.EquivalentTo(stored.Select(s => (s.Score, s.Sequence, s.Agent, s.TenantId))));
            Assert.That(published.All(p => p.Grades.Single() is { Grader: "answer", NotGraded: false }), Is.True);
            Assert.That(kept.Select(r => r.OnlineEvaluation!.Score), Is.EqualTo(new double?[] { 1, 1, 0, 0 }));
        });

        var drops = await Eventually.Until(() => Task.FromResult(Drops() is { Count: > 0 } posted ? posted : null), "the drop's notification");

        var body = drops[0];
        Assert.That(body.GetProperty("agent").GetString(), Is.EqualTo("counter"));
        Assert.That((body.GetProperty("windowEnd").GetInt64(), body.GetProperty("baselineMean").GetDouble(), body.GetProperty("windowMean").GetDouble()), Is.EqualTo((4L, 1.0, 0.0)));

        // The message that closed the window, delivered again: graded once, and the drop sent once.
        await _host.Services.GetRequiredService<IBus>().Publish(graded[^1]);
        // A third window as bad as the second is no further drop.
        foreach (var answer in new[] { "none", "still none" })
        {
            await RunAsync("counter", answer, sampled: true);
        }

        Assert.That((await Store.LatestAsync("counter", 10, CancellationToken.None)).Count, Is.EqualTo(6));
        // The redelivery publishes the stored grades again (a copy that stopped before publishing may
        // never have); Memory keeps what it had.
        var twice = await Eventually.Until(() => Task.FromResult(_published.Where(p => p.RunId == graded[^1].RunId).ToList() is { Count: 2 } both ? both : null), "the redelivery's RunGraded");
        Assert.That(twice.Select(p => p.GradedAt).Distinct().Count(), Is.EqualTo(1), "the stored grades, not new ones");
        Assert.That((await transcripts.GetAsync(graded[^1].RunId, CancellationToken.None)).OnlineEvaluation!.GradedAt, Is.EqualTo(kept[^1].OnlineEvaluation!.GradedAt));
        Assert.That(Drops(), Has.Count.EqualTo(1), "one notification of the drop");
        Assert.That(Measured("agentry.eval.online.score", "counter", "run"), Has.Count.EqualTo(6), "the redelivered run is not measured twice");
    }

    [Test]
    public async Task Should_keep_the_run_completed_and_leave_out_a_judge_that_cannot_be_asked()
    {
        // The run's planning call answers; the judge's call fails.
        var completed = await RunAsync("judged", "12", sampled: true);

        var stored = (await Store.GetAsync(completed.RunId, CancellationToken.None))!;
        var rubric = stored.Grades.Single(g => g.Grader == "rubric");
        Assert.Multiple(() =>
        {
            Assert.That(completed.Answer, Is.EqualTo("12"), "the run completed as if there were no grading");
            Assert.That(rubric.NotGraded, Is.True, rubric.Reason);
            Assert.That(rubric.Reason, Does.StartWith("The rubric judge could not be asked"));
            Assert.That(stored.Score, Is.EqualTo(1), "the score is the answer check's alone");
            Assert.That(Measured("agentry.eval.online.not_graded", "judged", "rubric"), Is.EqualTo(new double[] { 1 }));
        });
        var published = await Eventually.Until(() => Task.FromResult(_published.FirstOrDefault(p => p.RunId == completed.RunId)), "the run's RunGraded");
        Assert.That(published.Grades.Single(g => g.Grader == "rubric").NotGraded, Is.True, "the not-graded mark travels with the grade");
    }

    /// Publishes a goal under a run id the sampler does (or does not) choose at 0.5, scripts the
    /// model's answer, and waits for the run to complete and, when sampled, for its grades to be
    /// stored, so that runs are graded in order.
    private async Task<RunCompleted> RunAsync(string agent, string answer, bool sampled)
    {
        var runId = Enumerable.Range(0, 1000).Select(_ => NewId.NextGuid()).First(id => OnlineSampling.IsSampled(id, 0.5) == sampled);
        _answers[runId.ToString()] = answer;
        var end = _completed.GetOrAdd(runId, _ => NewEnd());
        await _host.Services.GetRequiredService<IBus>().Publish(new GoalReceived(runId, Extensions.DefaultTenant, agent, $"How many? (ticket {runId})"));
        var completed = await end.Task.WaitAsync(TimeSpan.FromSeconds(60));
        if (sampled)
        {
            await Eventually.Until(() => Store.GetAsync(runId, CancellationToken.None), $"the online grades of run {runId}");
        }

        return completed;
    }

    private List<System.Text.Json.JsonElement> Drops() =>
        _webhook.Received.Where(b => b.TryGetProperty("event", out var e) && e.GetString() == "eval.online.dropped").ToList();

    private List<double> Measured(string instrument, string agent, string grader) =>
        _measured.Where(m => m.Instrument == instrument && m.Agent == agent && m.Grader == grader).Select(m => m.Value).ToList();

    private void StartListening()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == Name && instrument.Name.StartsWith("agentry.eval.online.", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _listener.Start();
    }

    private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string Tag(ReadOnlySpan<KeyValuePair<string, object?>> all, string key)
        {
            foreach (var tag in all)
            {
                if (tag.Key == key)
                {
                    return tag.Value?.ToString() ?? "";
                }
            }

            return "";
        }

        _measured.Enqueue((instrument.Name, Tag(tags, Tags.Agent), Tag(tags, Tags.Grader), value));
    }

    private static TaskCompletionSource<RunCompleted> NewEnd() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
