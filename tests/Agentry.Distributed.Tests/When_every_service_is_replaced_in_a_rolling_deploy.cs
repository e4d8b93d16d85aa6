using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Tests;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;

namespace Agentry.Distributed.Tests;

/// Issue 22, point 3: a rolling deploy of every service while 50 runs are in flight, each service a
/// process of its own on RabbitMQ and Redis. Each service in turn is replaced as its Kubernetes
/// Deployment replaces it (deploy/k8s/base): the next process is started and ready (its bus and every
/// receive endpoint consuming) before the old one gets SIGTERM and drains (RollingUpdate, maxSurge
/// 1); Memory, whose pod owns the SQLite file (strategy Recreate), is stopped first and its next
/// process started after, its messages waiting in its queues meanwhile.
///
/// "The next version": of what these processes write, only the run state has a second version, so
/// the next Planner is this build with Agentry__Schema__Write=2 and reads and writes run states beside
/// a Planner writing version 1. Every message type is at version 1 and has no setting to write
/// another (ContractVersions), so the other services' next version is a fresh process of the same
/// build: what the deploy exercises for them is the handover of messages in flight, not a format.
///
/// Each run's agent (a scripted model over HTTP, deterministic from the conversation) posts three
/// numbered notes with http_post, one a step, then answers: four steps, three side effects. The
/// hook counts every post by its Idempotency-Key (RUN:CALL), so a call run twice is a key counted
/// twice; a run lost is a run without an end; a call interrupted (a ToolExecutor that died holding
/// it: the ledger never repeats such a call and reports it instead) makes the model answer that a
/// note was not stored, which is not the expected answer. AGENTRY_ROLLING_STOP=kill stops each old
/// process with SIGKILL instead of SIGTERM, to see the test fail that way.
[NonParallelizable]
public sealed partial class When_every_service_is_replaced_in_a_rolling_deploy
{
    private const string Agent = "note-taker";
    private const int Notes = 3;
    private const int Runs = 50;
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(40);

    /// The order of the rollout, and what makes each next process the next version.
    private static readonly (string Service, bool Recreate, Dictionary<string, string> Next)[] Rollout =
    [
        ("Gateway", false, []),
        ("Memory", true, []),
        ("Planner", false, new() { ["Agentry__Schema__Write"] = "2" }),
        ("ToolExecutor", false, []),
        ("Evaluator", false, []),
        ("Notifier", false, []),
    ];

    private readonly ConcurrentDictionary<string, int> _posts = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, int>> _notifications = new();

    [Test]
    public async Task Should_end_every_run_once_and_run_no_side_effect_twice_while_every_service_is_replaced()
    {
        var clock = Stopwatch.StartNew();
        var kill = Environment.GetEnvironmentVariable("AGENTRY_ROLLING_STOP") == "kill";
        var (hook, hookBase) = await LocalHttpServer.StartAsync(app =>
        {
            // Slow enough that calls are in hand when a ToolExecutor is asked to stop.
            app.MapPost("/hook/{label}/{note:int}", async (HttpRequest request, int note) =>
            {
                _posts.AddOrUpdate(request.Headers["Idempotency-Key"].ToString(), 1, (_, count) => count + 1);
                await Task.Delay(300);
                return Results.Text($"note {note} stored");
            });
            app.MapPost("/notify", async (HttpRequest request) =>
            {
                using var body = await JsonDocument.ParseAsync(request.Body);
                var run = body.RootElement.GetProperty("runId").GetGuid();
                _notifications.GetOrAdd(run, _ => new()).AddOrUpdate(request.Headers["Idempotency-Key"].ToString(), 1, (_, count) => count + 1);
                return Results.Ok();
            });
        });
        using var model = OpenAiFake.Start();
        model.WhenEmpty = NextReply;
        var agents = Directory.CreateTempSubdirectory("agentry-rolling-agents-").FullName;
        await File.WriteAllTextAsync(Path.Combine(agents, $"{Agent}.yaml"), $"""
            description: Posts numbered notes to a hook, one a step.
            instructions: Post the notes with http_post one at a time, then say how many were stored.
            tools: [http_post]
            limits:
              max_steps: 6
              deadline: 4m
            notify:
              webhook: {new Uri(hookBase, "/notify")}
            """);
        try
        {
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Agents__Path"] = agents,
                ["Tools__HttpPost__AllowedHosts__0"] = "127.0.0.1",
                ["Tools__HttpPost__PrivateHosts__0"] = "127.0.0.1",
                ["Llm__DefaultProvider"] = "scripted",
                ["Llm__Providers__scripted__Kind"] = "openai-compatible",
                ["Llm__Providers__scripted__Endpoint"] = model.BaseUrl.ToString(),
                ["Llm__Providers__scripted__Model"] = "scripted-notes",
                // 50 runs at once are more than the default tenant cap; the cap is not under test.
                ["Tenants__MaxConcurrentRuns"] = "0",
            });
            await using var ends = await RunEnds.StartAsync(deployment.AmqpUrl);
            await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
            await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.RequireRedis());
            var sagaKeys = $"{deployment.Environment["Planner__Redis__KeyPrefix"]}saga:agentrun:";
            using var gateway = await deployment.GatewayClientAsync();
            gateway.Timeout = TimeSpan.FromSeconds(10);
            TestContext.Progress.WriteLine($"rolling deploy: deployment ready after {clock.Elapsed.TotalSeconds:0}s");

            var runs = new List<(Guid RunId, string Label)>();
            var stops = new List<string>();
            var inFlightAtStop = new Dictionary<string, int>();
            var carriedOverFromVersion1 = 0;
            HashSet<Guid> endedByVersion1 = [];
            var batches = Enumerable.Range(0, Rollout.Length).Select(i => Runs / Rollout.Length + (i < Runs % Rollout.Length ? 1 : 0)).ToList();
            for (var i = 0; i < Rollout.Length; i++)
            {
                var (service, recreate, next) = Rollout[i];
                var old = deployment.Get(service, instance: "1");
                ServiceProcess? successor = null;
                if (!recreate)
                {
                    successor = await deployment.StartAnotherAsync(service, "2", next);
                    if (service == "Gateway")
                    {
                        // The Service's endpoints move to the ready pod before the old one is told to stop.
                        gateway.BaseAddress = successor.BaseAddress;
                    }
                }

                // A batch of runs half through the Gateway and half as raw AMQP, in flight (a note
                // posted, more to come) when the old process is told to stop.
                var batch = await Task.WhenAll(Enumerable.Range(0, batches[i]).Select(n => StartRunAsync(deployment, gateway, hookBase, throughTheGateway: n % 2 == 0)));
                runs.AddRange(batch);
                await WaitAsync(() => batch.Any(r => _posts.ContainsKey($"{r.RunId}:note_1")), TimeSpan.FromSeconds(60), $"a run of the batch before {service} to post its first note", deployment);
                inFlightAtStop[service] = runs.Count(r => !ends.HasEnded(r.RunId));
                if (service == "Planner")
                {
                    carriedOverFromVersion1 = await CountStatesAsync(redis, sagaKeys, runs.Where(r => !ends.HasEnded(r.RunId)), version: 1);
                }

                if (kill)
                {
                    await old.KillAsync();
                    stops.Add($"{service}: SIGKILL with {inFlightAtStop[service]} runs in flight");
                }
                else
                {
                    var (byItself, exitCode, took) = await old.StopAsync(GracePeriod);
                    stops.Add($"{service}: {(byItself ? "drained and exited" : "SIGKILL after the grace period")} (code {exitCode}) in {took.TotalSeconds:0.0}s with {inFlightAtStop[service]} runs in flight");
                    Assert.That(byItself, Is.True, () => $"{service} did not exit within {GracePeriod.TotalSeconds}s of SIGTERM{Environment.NewLine}{old.Log}");
                }

                if (service == "Planner")
                {
                    // What ends from now on is the second Planner's; the wait lets the ends the first
                    // one published as it drained reach the test.
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    endedByVersion1 = runs.Where(r => ends.HasEnded(r.RunId)).Select(r => r.RunId).ToHashSet();
                }

                if (recreate)
                {
                    await deployment.StartAnotherAsync(service, "2", next);
                }

                TestContext.Progress.WriteLine($"rolling deploy: {clock.Elapsed.TotalSeconds:0}s {stops[^1]}");
            }

            await WaitAsync(() => runs.All(r => ends.HasEnded(r.RunId) && _notifications.ContainsKey(r.RunId)), TimeSpan.FromMinutes(2),
                $"every run to end and be notified ({runs.Count(r => !ends.HasEnded(r.RunId))} without an end, {runs.Count(r => !_notifications.ContainsKey(r.RunId))} without a notification)", deployment);
            // A duplicate (a redelivered end, a second notification) would come now.
            await Task.Delay(TimeSpan.FromSeconds(3));

            var report = new List<string>();
            foreach (var (runId, label) in runs)
            {
                var end = ends.Of(runId);
                if (end.Select(e => e.MessageId).Distinct().Count() != 1 || end[0].Type != nameof(RunCompleted))
                {
                    report.Add($"{runId}: ends {string.Join(", ", end)}");
                }

                var (_, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(5));
                if (message.TryGetProperty("answer", out var answer) && answer.GetString() != Answer(label))
                {
                    report.Add($"{runId}: answered '{answer.GetString()}', not '{Answer(label)}'");
                }

                var calls = _posts.Keys.Where(k => k.StartsWith($"{runId}:", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
                if (!calls.SequenceEqual(Enumerable.Range(1, Notes).Select(n => $"{runId}:note_{n}")))
                {
                    report.Add($"{runId}: posted {string.Join(", ", calls)}");
                }

                if (_notifications.GetValueOrDefault(runId)?.Values.Sum() is not 1)
                {
                    report.Add($"{runId}: notified {string.Join(", ", _notifications.GetValueOrDefault(runId) ?? new())}");
                }
            }

            // The runs the second Planner ended: their final state is in the version it writes.
            var endedByVersion2 = runs.Where(r => !endedByVersion1.Contains(r.RunId)).ToList();
            var finalStates = await StatesAsync(redis, sagaKeys, endedByVersion2);
            var errorQueues = await deployment.ErrorQueueDepthsAsync();
            var twice = _posts.Where(p => p.Value > 1).Select(p => $"{p.Key} x{p.Value}").ToList();
            var exits = deployment.Processes.SelectMany(p => p.UnexpectedExits.Select(exit => $"{p.Service}/{p.Instance} {exit}")).ToList();
            TestContext.Progress.WriteLine(string.Join(Environment.NewLine,
                $"rolling deploy: {runs.Count} runs in {clock.Elapsed.TotalSeconds:0}s: {string.Join(", ", runs.GroupBy(r => ends.Of(r.RunId) is [var first, ..] ? first.Type : "no end").Select(g => $"{g.Count()} {g.Key}"))}",
                $"rolling deploy: {_posts.Values.Sum()} posts for {_posts.Count} calls; {_notifications.Values.Sum(n => n.Values.Sum())} notifications",
                $"rolling deploy: {carriedOverFromVersion1} run(s) in flight with a version 1 state when the first Planner stopped, carried on by the second"));

            Assert.Multiple(() =>
            {
                Assert.That(report, Is.Empty, "runs that did not end exactly once as expected, each note posted once and one notification");
                Assert.That(twice, Is.Empty, "calls with side effects that ran twice");
                Assert.That(errorQueues.Where(q => q.Value > 0), Is.Empty, "messages in error queues");
                Assert.That(exits, Is.Empty, "service exits the test did not cause");
                Assert.That(inFlightAtStop.Where(s => s.Value == 0).Select(s => s.Key), Is.Empty, "services stopped with no run in flight: the deploy would not have been tested");
                Assert.That(finalStates, Is.All.EqualTo("Completed v2"), "the final state of every run the second Planner ended is written in version 2");
            });
        }
        finally
        {
            await hook.DisposeAsync();
            Directory.Delete(agents, recursive: true);
        }
    }

    private static string Answer(string label) => $"Stored {Notes} notes for {label}.";

    /// The scripted model, deterministic from the conversation alone, so that any Planner process,
    /// and a step planned again after a redelivery, plans the same call under the same call id: the
    /// next note after the one the last tool result stored, then the answer.
    private static FakeReply NextReply(FakeRequest request)
    {
        var messages = request.Messages.EnumerateArray().ToList();
        if (Label().Match(string.Join("\n", messages.Select(Text))) is not { Success: true } label)
        {
            return FakeReply.Answer("done");
        }

        var stored = 0;
        if (messages[^1].GetProperty("role").GetString() == "tool")
        {
            var text = Text(messages[^1]);
            if (Stored().Match(text) is not { Success: true } note)
            {
                return FakeReply.Answer($"A note was not stored: {text}");
            }

            stored = int.Parse(note.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (stored == Notes)
        {
            return FakeReply.Answer(Answer(label.Groups[1].Value));
        }

        return FakeReply.ToolCalls(new FakeToolCall($"note_{stored + 1}", "tools-http_post",
            JsonSerializer.Serialize(new { url = $"{label.Value}/{stored + 1}", body = new { note = stored + 1 } })));
    }

    /// A message's content: a string, or an array of parts with text.
    private static string Text(JsonElement message) =>
        message.TryGetProperty("content", out var content) ? content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!,
            JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(part => part.TryGetProperty("text", out var text) ? text.GetString() : "")),
            _ => "",
        } : "";

    private static async Task<(Guid RunId, string Label)> StartRunAsync(Deployment deployment, HttpClient gateway, Uri hookBase, bool throughTheGateway)
    {
        var label = Guid.NewGuid().ToString("N");
        var goal = $"Post {Notes} notes to {new Uri(hookBase, $"/hook/{label}")}";
        if (!throughTheGateway)
        {
            var runId = Guid.NewGuid();
            await RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, runId, Agent, goal);
            return (runId, label);
        }

        // As a caller would: the same Idempotency-Key until the Gateway takes it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = JsonContent.Create(new { agent = Agent, goal }) };
                request.Headers.Add(RunsApi.IdempotencyKeyHeader, label);
                using var response = await gateway.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return ((await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId, label);
                }

                Assert.That((int)response.StatusCode, Is.GreaterThanOrEqualTo(500), await response.Content.ReadAsStringAsync());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && attempt < 40)
            {
                // The Gateway is stopping: try again.
            }

            await Task.Delay(250);
        }
    }

    private static async Task<int> CountStatesAsync(ConnectionMultiplexer redis, string keys, IEnumerable<(Guid RunId, string)> runs, int version) =>
        (await StatesAsync(redis, keys, runs)).Count(s => s.EndsWith($" v{version}", StringComparison.Ordinal));

    /// Each run's saga state as "CurrentState vN".
    private static async Task<List<string>> StatesAsync(ConnectionMultiplexer redis, string keys, IEnumerable<(Guid RunId, string)> runs)
    {
        var states = new List<string>();
        foreach (var (runId, _) in runs)
        {
            var data = await redis.GetDatabase().HashGetAsync($"{keys}{runId:D}", "data");
            if (data.IsNull)
            {
                states.Add($"{runId}: no state");
                continue;
            }

            var root = JsonDocument.Parse(data.ToString()).RootElement;
            states.Add($"{root.GetProperty("CurrentState").GetString()} v{(root.TryGetProperty("SchemaVersion", out var version) ? version.GetInt32() : 1)}");
        }

        return states;
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan timeout, string what, Deployment deployment)
    {
        for (var clock = Stopwatch.StartNew(); !done(); await Task.Delay(100))
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0}s waiting for {what}{Environment.NewLine}{await deployment.DescribeAsync()}{Environment.NewLine}{deployment.Logs}");
            }
        }
    }

    // The run's hook as the goal names it.
    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/hook/([0-9a-f]{32})")]
    private static partial Regex Label();

    [GeneratedRegex(@"note (\d+) stored")]
    private static partial Regex Stored();
}
