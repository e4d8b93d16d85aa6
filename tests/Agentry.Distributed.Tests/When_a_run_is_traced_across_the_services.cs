using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Agentry.Distributed.Tests;

/// Every service its own process on RabbitMQ, each exporting its spans and logs over OTLP to a
/// receiver in the test: one run is one trace, chained by parent ids through every service.
[NonParallelizable]
public sealed partial class When_a_run_is_traced_across_the_services
{
    private const string Gateway = "agentry-gateway";
    private const string Planner = "agentry-planner";
    private const string Memory = "agentry-memory";
    private const string ToolExecutor = "agentry-tool-executor";
    private const string Evaluator = "agentry-evaluator";

    private OtlpReceiver _receiver = null!;
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _receiver = await OtlpReceiver.StartAsync();
        var environment = new Dictionary<string, string>(_receiver.Environment)
        {
            // The ToolExecutor's summary of each step is an Information log: let it through.
            ["Logging__LogLevel__Agentry.ToolExecutor"] = "Information",
        };
        _deployment = await Deployment.StartAsync(environment);
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _outcomes.DisposeAsync();
        await _deployment.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Test]
    public async Task Should_chain_a_run_started_over_http_from_the_gateway_request_through_every_service()
    {
        using var http = await _deployment.GatewayClientAsync();
        using var response = await http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 17 * 23 + 4?" });
        response.EnsureSuccessStatusCode();
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
        var (type, _) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"));

        var (trace, stages) = await WholeTraceAsync(runId, expectedStages: 7);

        var root = trace.Single(s => s.ParentSpanId.Length == 0);
        Assert.That((root.Service, root.Kind), Is.EqualTo((Gateway, 2)), "the root is the Gateway's HTTP request (a server span)");
        Assert.That(root.Name, Does.StartWith("POST /runs"));
        string[] step1 = [Gateway, Planner, Memory];
        Assert.That(Paths(trace, stages), Is.EqualTo(new[]
        {
            ("context 1", Path([.. step1])),
            ("plan 1", Path([.. step1, Planner])),
            ("act 1", Path([.. step1, Planner, ToolExecutor])),
            ("evaluate 1", Path([.. step1, Planner, ToolExecutor, Evaluator])),
            ("context 2", Path([.. step1, Planner, ToolExecutor, Evaluator, Planner, Memory])),
            ("plan 2", Path([.. step1, Planner, ToolExecutor, Evaluator, Planner, Memory, Planner])),
            ("evaluate 2", Path([.. step1, Planner, ToolExecutor, Evaluator, Planner, Memory, Planner, Evaluator])),
        }));

        var chat = stages.Single(s => s.Tag("agentry.stage") == "plan" && s.Tag("agentry.step") == "1");
        Assert.That((chat.Name, chat.Tag("gen_ai.operation.name"), chat.Tag("gen_ai.request.model"), chat.Tag("gen_ai.usage.input_tokens")),
            Is.EqualTo(("chat agentry-offline", "chat", "agentry-offline", "206")));

        // Logs leave with the span they were written in.
        var toolLog = _receiver.Logs.Where(l => l.Service == ToolExecutor && l.Body.StartsWith("Ran 1 tool call(s) of step 1 of run " + runId, StringComparison.Ordinal));
        Assert.That(toolLog.Select(l => l.TraceId), Is.EqualTo(new[] { root.TraceId }), string.Join(Environment.NewLine, _receiver.Logs.Select(l => $"{l.Service} {l.TraceId} {l.Body}")));
    }

    [Test]
    public async Task Should_make_a_run_started_by_a_plain_json_publish_one_trace_from_the_saga_on()
    {
        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "assistant", "What is 2 ^ 10?");
        var (type, _) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"));

        var (trace, stages) = await WholeTraceAsync(runId, expectedStages: 7);

        // No trace context came with the message: the Planner's receive of it is the root.
        var root = trace.Single(s => s.ParentSpanId.Length == 0);
        Assert.That((root.Service, root.Kind), Is.EqualTo((Planner, 5)), root.Name);
        Assert.That(Paths(trace, stages).Select(p => p.Path), Is.EqualTo(new[]
        {
            Path(Planner, Memory),
            Path(Planner, Memory, Planner),
            Path(Planner, Memory, Planner, ToolExecutor),
            Path(Planner, Memory, Planner, ToolExecutor, Evaluator),
            Path(Planner, Memory, Planner, ToolExecutor, Evaluator, Planner, Memory),
            Path(Planner, Memory, Planner, ToolExecutor, Evaluator, Planner, Memory, Planner),
            Path(Planner, Memory, Planner, ToolExecutor, Evaluator, Planner, Memory, Planner, Evaluator),
        }));
    }

    [Test]
    public async Task Should_print_the_trace_id_the_services_record_when_the_cli_follows_a_run_on_the_deployment()
    {
        var (exitCode, output) = await RunCliAsync("run", "What is 17 * 23 + 4?", "--bus", _deployment.AmqpUrl);
        Assert.That(exitCode, Is.EqualTo(0), output);

        var traceId = TraceLine().Match(output).Groups[1].Value;
        var runId = Guid.Parse(RunLine().Match(output).Groups[1].Value);
        Assert.That(traceId, Has.Length.EqualTo(32), output);
        var (trace, _) = await WholeTraceAsync(runId, expectedStages: 7, allowMissingRoot: true);
        Assert.That(trace.Select(s => s.TraceId).Distinct(), Is.EqualTo(new[] { traceId }));
        Assert.That(output, Does.Not.Contain("Timing (from this run's spans)"), "the stages ran in other processes: the CLI has no timings to show");
    }

    [Test]
    public async Task Should_answer_a_prometheus_scrape_on_every_service_with_the_metrics_of_its_stage()
    {
        var runId = Guid.NewGuid();
        await RawRabbitMq.PublishGoalAsync(_deployment.AmqpUrl, runId, "assistant", "What is 3 * 3?");
        await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);

        var expected = new Dictionary<string, string>
        {
            // Nothing of a raw-JSON run passes the Gateway: it answers in the format all the same.
            ["Gateway"] = "# TYPE target_info gauge",
            ["Planner"] = "agentry_runs_finished_total{[^}]*agentry_outcome=\"Completed\"",
            ["Memory"] = "agentry_step_duration_seconds_count{[^}]*agentry_stage=\"context\"",
            ["ToolExecutor"] = "agentry_tool_calls_total{[^}]*gen_ai_tool_name=\"calculator\"",
            ["Evaluator"] = "agentry_step_duration_seconds_count{[^}]*agentry_stage=\"evaluate\"",
            // MassTransit's own meter: the Notifier consumed the end of the run.
            ["Notifier"] = "messaging_masstransit_consume_duration_milliseconds_count{[^}]*OutcomeConsumer",
        };
        foreach (var (service, metric) in expected)
        {
            // The Gateway asks a credential of every caller but probes, its scraper too (decision 0023).
            using var http = service == "Gateway" ? await _deployment.GatewayClientAsync() : new HttpClient { BaseAddress = _deployment.Get(service).BaseAddress };
            using var response = await http.GetAsync("/metrics");
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.IsSuccessStatusCode, $"{service}: {response.StatusCode}");
            Assert.That(text, Does.Match(metric), service);
        }
    }

    /// Waits until the run's stage spans are all in, and the whole trace they are in has every
    /// parent it names (a parent span ends, and is exported, after its children).
    private async Task<(List<ReceivedSpan> Trace, List<ReceivedSpan> Stages)> WholeTraceAsync(Guid runId, int expectedStages, bool allowMissingRoot = false)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var all = _receiver.Spans;
            var ofRun = all.Where(s => s.Tag("agentry.run_id") == runId.ToString() && s.Tag("agentry.stage") is "context" or "plan" or "act" or "evaluate").ToList();
            // A stage's own inner spans (the transcript read inside context assembly) are not stages.
            var stages = ofRun.Where(s => !ofRun.Any(p => p.SpanId == s.ParentSpanId)).ToList();
            var traceIds = stages.Select(s => s.TraceId).Distinct().ToList();
            Assert.That(traceIds, Has.Count.LessThanOrEqualTo(1), "the run's stages are in more than one trace");
            var trace = all.Where(s => traceIds.Contains(s.TraceId)).ToList();
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            var orphans = trace.Where(s => s.ParentSpanId.Length > 0 && !ids.Contains(s.ParentSpanId)).ToList();
            var complete = stages.Count >= expectedStages
                && (allowMissingRoot ? orphans.Select(o => o.ParentSpanId).Distinct().Count() <= 1 : orphans.Count == 0 && trace.Count(s => s.ParentSpanId.Length == 0) == 1);
            if (complete)
            {
                return (trace, stages);
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(20))
            {
                Assert.Fail($"The trace of run {runId} was not complete after {waited.Elapsed.TotalSeconds:0}s: {stages.Count} stage spans, "
                    + $"{trace.Count(s => s.ParentSpanId.Length == 0)} roots, spans whose parent never arrived: "
                    + string.Join(", ", orphans.Select(o => $"{o.Service} {o.Name}")));
            }

            try
            {
                await _receiver.NextExportAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Nothing new arrived: look once more, then give up at the limit above.
            }
        }
    }

    /// For each stage span, in run order: the services its parent chain passes through from the
    /// root, each run of spans in one service said once.
    private static List<(string Stage, string Path)> Paths(List<ReceivedSpan> trace, List<ReceivedSpan> stages)
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        (string Path, int Depth) ServicePath(ReceivedSpan span)
        {
            var services = new List<string>();
            var depth = 0;
            for (var current = span; current is not null; current = byId.GetValueOrDefault(current.ParentSpanId), depth++)
            {
                if (services.Count == 0 || services[^1] != current.Service)
                {
                    services.Add(current.Service);
                }
            }

            services.Reverse();
            return (Path([.. services]), depth);
        }

        // Each stage is caused by the one before it, so it sits deeper in the tree.
        return stages
            .Select(s => (Stage: $"{s.Tag("agentry.stage")} {s.Tag("agentry.step")}", Chain: ServicePath(s)))
            .OrderBy(s => s.Chain.Depth)
            .Select(s => (s.Stage, s.Chain.Path))
            .ToList();
    }

    private static string Path(params string[] services) => string.Join(" > ", services);

    private static Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments) => AgentryCli.RunAsync(arguments);

    [GeneratedRegex(@"^Trace: ([0-9a-f]{32})$", RegexOptions.Multiline)]
    private static partial Regex TraceLine();

    [GeneratedRegex(@"^Run: ([0-9a-f-]{36})$", RegexOptions.Multiline)]
    private static partial Regex RunLine();
}
