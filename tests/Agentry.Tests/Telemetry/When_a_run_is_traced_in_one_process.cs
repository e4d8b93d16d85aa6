using System.Diagnostics;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Tests.Telemetry;

/// Every service in one process, with the telemetry ServiceDefaults registers, exported to memory.
[NonParallelizable]
public sealed class When_a_run_is_traced_in_one_process
{
    private static readonly ActivitySource TestSource = new("Agentry.Tests");

    private TempFolder _folder = null!;
    private IHost _host = null!;
    private RecordedCollection<Activity> _spans = null!;
    private RecordedCollection<LogRecord> _logs = null!;
    private readonly Dictionary<Guid, TaskCompletionSource<string>> _ends = [];

    [SetUp]
    public async Task Start()
    {
        _folder = new TempFolder();
        _spans = new RecordedCollection<Activity>();
        _logs = new RecordedCollection<LogRecord>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Agents:Path"] = TestAgents.RepositoryAgentsFolder(),
        });
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(TestSource.Name).AddInMemoryExporter(_spans));
        builder.Services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddInMemoryExporter(_logs));
        _host = builder.Build();
        await _host.StartAsync();
        var bus = _host.Services.GetRequiredService<IBus>();
        await bus.ConnectReceiveEndpoint(e =>
        {
            e.Handler<RunCompleted>(c => Ended(c.Message.RunId, nameof(RunCompleted)));
            e.Handler<RunFailed>(c => Ended(c.Message.RunId, $"{nameof(RunFailed)}: {c.Message.Reason}"));
            e.Handler<RunEscalated>(c => Ended(c.Message.RunId, $"{nameof(RunEscalated)}: {c.Message.Reason}"));
            e.Handler<RunCancelled>(c => Ended(c.Message.RunId, $"{nameof(RunCancelled)}: {c.Message.Reason}"));
        }).Ready;
    }

    [TearDown]
    public async Task Stop()
    {
        await _host.StopAsync();
        _host.Dispose();
        _folder.Dispose();
    }

    [Test]
    public async Task Should_put_every_stage_of_the_run_under_the_one_trace_that_started_it()
    {
        var (runId, traceId) = await RunAsync("What is 17 * 23 + 4?");

        var ours = Spans(runId);
        Assert.That(ours.Select(s => s.TraceId).Distinct(), Is.EqualTo(new[] { traceId }), "every Agentry span of the run is in the trace the goal was published in");
        Assert.That(ours.Select(s => ((string)s.GetTagItem(Tags.Stage)!, (int)s.GetTagItem(Tags.Step)!)).Distinct(), Is.SupersetOf(new[]
        {
            (Stages.Saga, 1), (Stages.Context, 1), (Stages.Plan, 1), (Stages.Act, 1), (Stages.Evaluate, 1),
            (Stages.Saga, 2), (Stages.Context, 2), (Stages.Plan, 2), (Stages.Evaluate, 2),
        }));

        // One tree: each span of the run reaches the test's root through parents recorded in the trace
        // (a parent ends after its children, so the last ones may still be on their way).
        var trace = await _spans.WaitUntilAsync(
            all => ours.All(span => RootOf(span, all)?.DisplayName == "test run"),
            TimeSpan.FromSeconds(10),
            all => "spans whose parent chain does not reach the root: " + string.Join(", ", ours.Where(span => RootOf(span, all)?.DisplayName != "test run").Select(s => s.DisplayName)));
        Assert.That(trace.Where(s => s.TraceId == traceId && s.Source.Name == ServiceDefaults.Telemetry.AgentryTelemetry.MassTransit), Is.Not.Empty, "MassTransit's own publish and consume spans are recorded");
    }

    [Test]
    public async Task Should_describe_the_model_call_with_the_gen_ai_conventions()
    {
        var (runId, _) = await RunAsync("What is 17 * 23 + 4?");

        var chat = Spans(runId).First(s => (string?)s.GetTagItem(Tags.Stage) == Stages.Plan);
        Assert.That(chat.DisplayName, Is.EqualTo("chat agentry-offline"));
        Assert.That(chat.Kind, Is.EqualTo(ActivityKind.Client));
        Assert.That(chat.GetTagItem(Tags.GenAiOperation), Is.EqualTo("chat"));
        Assert.That(chat.GetTagItem(Tags.GenAiProvider), Is.EqualTo("agentry.offline"));
        Assert.That(chat.GetTagItem(Tags.GenAiRequestModel), Is.EqualTo("agentry-offline"));
        Assert.That(chat.GetTagItem(Tags.GenAiResponseModel), Is.EqualTo("agentry-offline"));
        Assert.That(chat.GetTagItem(Tags.GenAiInputTokens), Is.GreaterThan(0));
        Assert.That(chat.GetTagItem(Tags.GenAiOutputTokens), Is.GreaterThan(0));
    }

    [Test]
    public async Task Should_trace_each_tool_call_with_its_outcome_and_error_kind()
    {
        var (succeeded, _) = await RunAsync("What is 17 * 23 + 4?");
        var (failed, _) = await RunAsync("What is 1/0?");

        var ok = Spans(succeeded).Single(s => (string?)s.GetTagItem(Tags.Stage) == Stages.Act);
        Assert.That((ok.DisplayName, ok.GetTagItem(Tags.GenAiToolName), ok.GetTagItem(Tags.ToolOutcome), ok.Status),
            Is.EqualTo(("execute_tool calculator", (object)"calculator", (object)"ok", ActivityStatusCode.Unset)));

        var error = Spans(failed).Single(s => (string?)s.GetTagItem(Tags.Stage) == Stages.Act);
        Assert.That((error.GetTagItem(Tags.ToolOutcome), error.GetTagItem(Tags.ErrorType), error.Status),
            Is.EqualTo(((object)"Failed", (object)"Failed", ActivityStatusCode.Error)));
    }

    [Test]
    public async Task Should_record_each_saga_transition_with_the_states_it_went_between()
    {
        var (runId, _) = await RunAsync("What is 17 * 23 + 4?");

        var transitions = Spans(runId)
            .Where(s => (string?)s.GetTagItem(Tags.Stage) == Stages.Saga)
            .OrderBy(s => s.StartTimeUtc)
            .Select(s => $"{s.GetTagItem(Tags.SagaEvent)}: {s.GetTagItem(Tags.SagaStateFrom)} -> {s.GetTagItem(Tags.SagaStateTo)}")
            .ToList();
        Assert.That(transitions, Does.Contain("GoalReceived: Initial -> LoadingContext"));
        Assert.That(transitions, Does.Contain("GoalEvaluated: Evaluating -> Completed").Or.Contain("GoalEvaluated: Acting -> Completed"));
    }

    [Test]
    public async Task Should_write_logs_that_carry_the_trace_id_of_the_run()
    {
        var (_, traceId) = await RunAsync("What is 17 * 23 + 4?");

        var toolLog = _logs.Snapshot().Where(l => l.FormattedMessage?.StartsWith("Ran 1 tool call(s) of step 1", StringComparison.Ordinal) == true);
        Assert.That(toolLog.Select(l => l.TraceId), Is.EqualTo(new[] { traceId }), string.Join(Environment.NewLine, _logs.Snapshot().Select(l => $"{l.TraceId} {l.FormattedMessage}")));
    }

    private async Task<(Guid RunId, ActivityTraceId TraceId)> RunAsync(string goal)
    {
        var runId = NewId.NextGuid();
        Task<string> ended;
        lock (_ends)
        {
            ended = End(runId).Task;
        }

        ActivityTraceId traceId;
        using (var root = TestSource.StartActivity("test run"))
        {
            Assert.That(root, Is.Not.Null, "the test's source is listened to");
            traceId = root!.TraceId;
            await _host.Services.GetRequiredService<IBus>().Publish(new GoalReceived(runId, Extensions.DefaultTenant, "assistant", goal));
        }

        var end = await ended.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(end, Is.EqualTo(nameof(RunCompleted)));
        return (runId, traceId);
    }

    private List<Activity> Spans(Guid runId)
    {
        return _spans.Snapshot().Where(s => s.Source == Source && (string?)s.GetTagItem(Tags.RunId) == runId.ToString()).ToList();
    }

    /// The root the span's recorded parents lead to; null when a parent is not (yet) recorded.
    private static Activity? RootOf(Activity span, IReadOnlyList<Activity> all)
    {
        var byId = all.Where(s => s.TraceId == span.TraceId).ToDictionary(s => s.SpanId);
        var current = span;
        while (current.ParentSpanId != default)
        {
            if (!byId.TryGetValue(current.ParentSpanId, out var parent))
            {
                return null;
            }

            current = parent;
        }

        return current;
    }

    private Task Ended(Guid runId, string outcome)
    {
        lock (_ends)
        {
            End(runId).TrySetResult(outcome);
        }

        return Task.CompletedTask;
    }

    private TaskCompletionSource<string> End(Guid runId)
    {
        if (!_ends.TryGetValue(runId, out var end))
        {
            end = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _ends[runId] = end;
        }

        return end;
    }
}
