using Agentry.Gateway.Tracing;

namespace Agentry.Tests.Gateway.Tracing;

/// The span → timeline computation, on spans shaped as MassTransit and Agentry record them: a send
/// (producer) is the parent of each receive of the message, the receive of each try of the consumer
/// (process), and that of our stage spans.
public sealed class When_a_runs_spans_become_a_timeline
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid RunId = Guid.NewGuid();

    private static TraceSpan Span(string id, string? parent, string name, string kind, double startMs, double durationMs, string status = TraceStatus.Unset, string trace = "t1", string service = "agentry", params (string Key, string Value)[] tags) =>
        new(trace, id, parent, service, name, kind, T0.AddMilliseconds(startMs), TimeSpan.FromMilliseconds(durationMs), status, tags.ToDictionary(t => t.Key, t => t.Value));

    private static (string, string) Op(string operation) => ("messaging.operation", operation);

    private static (string, string) Consumer(string type) => ("messaging.masstransit.consumer_type", type);

    [Test]
    public void Should_show_a_receives_wait_since_its_send_apart_from_its_work()
    {
        var timeline = RunTimeline.Build(RunId, "test", [
            Span("send", null, "ContextLoaded send", "producer", 0, 2, tags: Op("send")),
            Span("recv", "send", "plan-step receive", "consumer", 40, 100, tags: Op("receive")),
            Span("proc", "recv", "plan-step process", "consumer", 41, 98, tags: [Op("process"), Consumer("PlanStepConsumer")]),
        ], null);

        var receive = timeline.Spans.Single(s => s.SpanId == "recv");
        Assert.That((receive.QueueWaitMs, receive.OffsetMs, receive.DurationMs), Is.EqualTo(((double?)40, 40d, 100d)));
        Assert.That(timeline.Spans.Where(s => s.SpanId != "recv").Select(s => s.QueueWaitMs), Is.All.Null, "only a receive waited in a queue");
        Assert.That(timeline.Spans.Single(s => s.SpanId == "proc").RetryAttempt, Is.Null, "one try is not a retry");
        Assert.That(timeline.DurationMs, Is.EqualTo(140));
    }

    [Test]
    public void Should_count_no_wait_when_the_receivers_clock_is_behind_or_the_parent_is_no_send()
    {
        var timeline = RunTimeline.Build(RunId, "test", [
            Span("send", null, "GoalReceived send", "producer", 10, 2, tags: Op("send")),
            Span("skewed", "send", "agent-run-state receive", "consumer", 5, 20, tags: Op("receive")),
            Span("orphan", "gone", "transcript receive", "consumer", 30, 5, tags: Op("receive")),
        ], null);

        Assert.That(timeline.Spans.Single(s => s.SpanId == "skewed").QueueWaitMs, Is.EqualTo(0));
        Assert.That(timeline.Spans.Single(s => s.SpanId == "orphan").QueueWaitMs, Is.Null, "its send is not among the spans");
        Assert.That(timeline.Spans[0].SpanId, Is.EqualTo("skewed"), "earliest first");
    }

    [Test]
    public void Should_number_each_try_of_a_retried_consumer_as_a_bar_of_its_own()
    {
        var timeline = RunTimeline.Build(RunId, "test", [
            Span("send", null, "StepPlanned send", "producer", 0, 1, tags: Op("send")),
            Span("recv", "send", "execute-step receive", "consumer", 3, 600, tags: Op("receive")),
            Span("try3", "recv", "execute-step process", "consumer", 500, 90, TraceStatus.Ok, tags: [Op("process"), Consumer("ExecuteStepConsumer")]),
            Span("try1", "recv", "execute-step process", "consumer", 4, 10, TraceStatus.Error, tags: [Op("process"), Consumer("ExecuteStepConsumer")]),
            Span("try2", "recv", "execute-step process", "consumer", 20, 10, TraceStatus.Error, tags: [Op("process"), Consumer("ExecuteStepConsumer")]),
            Span("other", "recv", "execute-step process", "consumer", 5, 1, tags: [Op("process"), Consumer("AuditConsumer")]),
        ], null);

        var tries = timeline.Spans.Where(s => s.RetryAttempt is not null).Select(s => (s.SpanId, s.RetryAttempt, s.Status));
        Assert.That(tries, Is.EqualTo(new[] { ("try1", (int?)1, TraceStatus.Error), ("try2", 2, TraceStatus.Error), ("try3", 3, TraceStatus.Ok) }));
        Assert.That(timeline.Spans.Single(s => s.SpanId == "other").RetryAttempt, Is.Null, "another consumer of the same delivery ran once");
    }

    [Test]
    public void Should_sum_a_steps_model_calls_as_its_planning_time()
    {
        var timeline = RunTimeline.Build(RunId, "test", [
            Span("c1", null, "chat gpt", "client", 0, 120, tags: [("agentry.step", "1"), ("agentry.stage", "plan")]),
            Span("c2", null, "chat gpt", "client", 130, 30.5, tags: [("agentry.step", "1"), ("agentry.stage", "plan")]),
            Span("ctx", null, "assemble_context", "internal", 200, 7, tags: [("agentry.step", "2"), ("agentry.stage", "context")]),
            Span("c3", null, "chat gpt", "client", 210, 80, tags: [("agentry.step", "2"), ("agentry.stage", "plan")]),
        ], null);

        Assert.That(timeline.Steps, Is.EqualTo(new[] { new StepTiming(1, 150.5, 2), new StepTiming(2, 80, 1) }));
        Assert.That(timeline.Spans.Single(s => s.SpanId == "ctx").Step, Is.EqualTo(2));
    }

    [Test]
    public void Should_link_each_trace_of_the_run_to_jaeger_only_when_its_ui_is_configured()
    {
        TraceSpan[] spans = [
            Span("a", null, "POST /runs/", "server", 0, 5, trace: "first"),
            Span("b", null, "POST /runs/{runId:guid}/approvals/{callId}", "server", 900, 5, trace: "approval"),
            Span("a", null, "duplicate of a, as a store may answer twice", "server", 0, 5, trace: "first"),
        ];

        var linked = RunTimeline.Build(RunId, "test", spans, "http://jaeger.example:16686/");
        var bare = RunTimeline.Build(RunId, "test", spans, null);

        Assert.That(linked.Traces, Is.EqualTo(new[] { new TraceLink("first", "http://jaeger.example:16686/trace/first"), new TraceLink("approval", "http://jaeger.example:16686/trace/approval") }));
        Assert.That(bare.Traces.Select(t => t.JaegerUrl), Is.All.Null);
        Assert.That(linked.Spans, Has.Count.EqualTo(2));
    }
}
