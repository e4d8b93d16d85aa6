namespace Agentry.Gateway.Tracing;

/// One finished span, as either trace store gives it. Kind is OpenTelemetry's in lower case
/// (server, client, producer, consumer, internal), Status ok, error or unset; Tags holds the
/// attributes the timeline reads (agentry.*, gen_ai.*, messaging.*, http.*, error.type).
public sealed record TraceSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Service,
    string Name,
    string Kind,
    DateTimeOffset Start,
    TimeSpan Duration,
    string Status,
    IReadOnlyDictionary<string, string> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;
}

/// Where the Gateway reads a run's spans (docs/observability.md, "A run's timeline"): the spans of
/// every trace a span tagged with the run's agentry.run_id belongs to. A run is usually one trace,
/// but a person's approval, resume or close continues it from their own HTTP request, in a trace of
/// its own. Two kinds: RecentTraces in `agentry serve` (this process's own spans, recent runs only)
/// and JaegerTraces for a deployment that exports to Jaeger.
public interface IRunTraces
{
    /// Where the spans come from, in words a person reads on the run's page.
    string Source { get; }

    /// Why a run may have no spans here, said to the person who asked for them.
    string WhyNone { get; }

    /// The run's spans, in no particular order; empty when none are known.
    Task<IReadOnlyList<TraceSpan>> SpansOfRunAsync(Guid runId, CancellationToken cancellationToken);
}

/// The trace store could not be read: the message says where and why.
public sealed class TraceStoreException(string message, Exception? inner = null) : Exception(message, inner);
