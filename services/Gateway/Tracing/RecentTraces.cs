using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using Agentry.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace Agentry.Gateway.Tracing;

public sealed class RecentTracesOptions
{
    public const string Section = "Tracing:Recent";

    /// How many runs' traces are kept; the oldest run's are dropped when one more starts.
    [Range(1, 100_000)]
    public int Runs { get; set; } = 200;

    /// Spans kept per trace; a trace with more keeps its first ones.
    [Range(10, 1_000_000)]
    public int SpansPerTrace { get; set; } = 5_000;

    /// Traces not (yet) tied to a run: the Gateway's own requests, and a run's root request, whose
    /// spans may end before any span tagged with the run does. The oldest are dropped.
    [Range(10, 1_000_000)]
    public int OtherTraces { get; set; } = 1_000;
}

/// The spans of recent runs, kept in this process's memory: with every service in one process
/// (`agentry serve`), every span of a run ends here. An OpenTelemetry processor, so it sees exactly
/// what an exporter would, sampled the same way. Bounded by RecentTracesOptions: at the defaults,
/// at most 200 runs' traces and 1,000 others, each span a few hundred bytes of strings.
public sealed class RecentTraces(IOptions<RecentTracesOptions> options) : BaseProcessor<Activity>, IRunTraces
{
    private static readonly string[] KeptTagPrefixes = ["agentry.", "gen_ai.", "messaging.", "http.", "error.type"];

    private readonly RecentTracesOptions _limits = options.Value;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TraceSpan>> _traces = [];
    private readonly Dictionary<Guid, HashSet<string>> _runs = [];
    private readonly Queue<Guid> _runOrder = new();
    private readonly Dictionary<string, int> _runsOfTrace = [];
    private readonly Queue<string> _otherOrder = new();
    private string? _service;

    public string Source => "this process's recent runs";

    public string WhyNone => $"this process keeps the spans of its last {_limits.Runs} runs (Tracing:Recent:Runs) since it started, and a run started by another process is not among them.";

    public Task<IReadOnlyList<TraceSpan>> SpansOfRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<TraceSpan> spans = _runs.TryGetValue(runId, out var traces)
                ? [.. traces.Where(_traces.ContainsKey).SelectMany(t => _traces[t])]
                : [];
            return Task.FromResult(spans);
        }
    }

    public override void OnEnd(Activity data)
    {
        var span = ToSpan(data);
        var runId = Guid.TryParse(span.Tag(AgentryTelemetry.Tags.RunId), out var id) ? id : (Guid?)null;
        lock (_lock)
        {
            if (!_traces.TryGetValue(span.TraceId, out var spans))
            {
                _traces[span.TraceId] = spans = [];
                _otherOrder.Enqueue(span.TraceId);
                DropOldOtherTraces();
            }

            if (spans.Count < _limits.SpansPerTrace)
            {
                spans.Add(span);
            }

            if (runId is { } run)
            {
                Claim(run, span.TraceId);
            }
        }
    }

    private void Claim(Guid runId, string traceId)
    {
        if (!_runs.TryGetValue(runId, out var traces))
        {
            _runs[runId] = traces = [];
            _runOrder.Enqueue(runId);
        }

        if (traces.Add(traceId))
        {
            _runsOfTrace[traceId] = _runsOfTrace.GetValueOrDefault(traceId) + 1;
        }

        while (_runs.Count > _limits.Runs && _runOrder.TryDequeue(out var oldest))
        {
            foreach (var trace in _runs[oldest])
            {
                // A sub-agent's run shares its parent's trace: the trace stays while a run still has it.
                if ((_runsOfTrace[trace] -= 1) == 0)
                {
                    _runsOfTrace.Remove(trace);
                    _traces.Remove(trace);
                }
            }

            _runs.Remove(oldest);
        }
    }

    private void DropOldOtherTraces()
    {
        while (_otherOrder.Count > _limits.OtherTraces && _otherOrder.TryDequeue(out var oldest))
        {
            if (!_runsOfTrace.ContainsKey(oldest))
            {
                _traces.Remove(oldest);
            }
        }
    }

    private TraceSpan ToSpan(Activity activity)
    {
        _service ??= ParentProvider?.GetResource().Attributes.FirstOrDefault(a => a.Key == "service.name").Value as string ?? "agentry";
        var tags = new Dictionary<string, string>();
        foreach (var (key, value) in activity.TagObjects)
        {
            if (value is not null && KeptTagPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)))
            {
                tags[key] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            }
        }

        return new TraceSpan(
            activity.TraceId.ToHexString(),
            activity.SpanId.ToHexString(),
            activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            _service,
            activity.DisplayName,
            activity.Kind.ToString().ToLowerInvariant(),
            new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero),
            activity.Duration,
            activity.Status switch { ActivityStatusCode.Error => TraceStatus.Error, ActivityStatusCode.Ok => TraceStatus.Ok, _ => TraceStatus.Unset },
            tags);
    }
}

public static class TraceStatus
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Unset = "unset";
}
