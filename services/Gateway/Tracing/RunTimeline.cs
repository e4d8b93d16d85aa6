using Agentry.ServiceDefaults.Telemetry;

namespace Agentry.Gateway.Tracing;

/// One bar of a run's timeline. OffsetMs is from the run's first span. QueueWaitMs, on a message's
/// receive, is how long it waited: from the start of its send to the start of its receive (so it
/// holds the transport's own time too). RetryAttempt, on MassTransit's process spans of a delivery
/// that was tried more than once, counts the tries from 1: each try is a span, and so a bar, of its own.
public sealed record TimelineSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Service,
    string Name,
    string Kind,
    DateTimeOffset Start,
    double OffsetMs,
    double DurationMs,
    double? QueueWaitMs,
    int? RetryAttempt,
    string Status,
    string? Operation,
    int? Step,
    string? Stage);

/// A trace of the run, with its page in Jaeger's UI when Tracing:Jaeger:UiUrl is set.
public sealed record TraceLink(string TraceId, string? JaegerUrl);

/// How long a step's planning took: its model calls (the chat spans of stage plan).
public sealed record StepTiming(int Step, double PlanningMs, int ModelCalls);

/// GET /runs/{id}/trace: the spans of the run's traces, earliest first.
public sealed record RunTimeline(
    Guid RunId,
    string Source,
    DateTimeOffset Start,
    double DurationMs,
    IReadOnlyList<TraceLink> Traces,
    IReadOnlyList<StepTiming> Steps,
    IReadOnlyList<TimelineSpan> Spans)
{
    private const string Operation = "messaging.operation";
    private const string ConsumerType = "messaging.masstransit.consumer_type";

    /// The timeline of spans (at least one); jaegerUi is the UI's base address, or null for no links.
    public static RunTimeline Build(Guid runId, string source, IReadOnlyList<TraceSpan> spans, string? jaegerUi)
    {
        var unique = spans.DistinctBy(s => (s.TraceId, s.SpanId)).ToList();
        var byId = unique.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var start = unique.Min(s => s.Start);
        var end = unique.Max(s => s.Start + s.Duration);

        // MassTransit's retry filter runs the consumer again inside the same receive: each try is a
        // process span under it, for the same consumer.
        var attempts = new Dictionary<string, int>();
        foreach (var tries in unique.Where(s => s.Tag(Operation) == "process" && s.ParentSpanId is not null)
                     .GroupBy(s => (s.ParentSpanId, s.Tag(ConsumerType)))
                     .Where(g => g.Count() > 1))
        {
            var number = 0;
            foreach (var attempt in tries.OrderBy(s => s.Start))
            {
                attempts[attempt.SpanId] = ++number;
            }
        }

        var timeline = unique.OrderBy(s => s.Start).ThenByDescending(s => s.Duration).Select(s => new TimelineSpan(
            s.TraceId,
            s.SpanId,
            s.ParentSpanId,
            s.Service,
            s.Name,
            s.Kind,
            s.Start,
            Milliseconds(s.Start - start),
            Milliseconds(s.Duration),
            QueueWait(s, byId),
            attempts.TryGetValue(s.SpanId, out var attempt) ? attempt : null,
            s.Status,
            s.Tag(Operation),
            int.TryParse(s.Tag(AgentryTelemetry.Tags.Step), out var step) ? step : null,
            s.Tag(AgentryTelemetry.Tags.Stage))).ToList();

        var steps = timeline.Where(s => s.Stage == AgentryTelemetry.Stages.Plan && s.Kind == "client" && s.Step is not null)
            .GroupBy(s => s.Step!.Value)
            .OrderBy(g => g.Key)
            .Select(g => new StepTiming(g.Key, Math.Round(g.Sum(s => s.DurationMs), 3), g.Count()))
            .ToList();

        var traces = unique.GroupBy(s => s.TraceId).OrderBy(g => g.Min(s => s.Start))
            .Select(g => new TraceLink(g.Key, jaegerUi is null ? null : $"{jaegerUi.TrimEnd('/')}/trace/{g.Key}"))
            .ToList();

        return new RunTimeline(runId, source, start, Milliseconds(end - start), traces, steps, timeline);
    }

    /// A receive's wait since its message's send began. Clocks of two hosts may disagree by a little:
    /// a receive that seems to start before its send waited no time that can be told.
    private static double? QueueWait(TraceSpan span, Dictionary<string, TraceSpan> byId) =>
        span.Tag(Operation) == "receive" && span.ParentSpanId is { } parentId && byId.TryGetValue(parentId, out var send) && send.Kind == "producer"
            ? Math.Max(0, Milliseconds(span.Start - send.Start))
            : null;

    private static double Milliseconds(TimeSpan time) => Math.Round(time.TotalMilliseconds, 3);
}
