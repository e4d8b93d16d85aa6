using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Tracing;

public sealed class JaegerOptions
{
    public const string Section = "Tracing:Jaeger";

    /// Where the Gateway reaches jaeger-query's HTTP API (the UI's port, 16686 by default), e.g.
    /// http://jaeger:16686. Unset: the Gateway reads no traces from Jaeger.
    [Url]
    public string? QueryUrl { get; set; }

    /// The service whose spans carry agentry.run_id for the search: the Planner's saga tags every
    /// transition with it. `agentry` when the exporter is `agentry serve`.
    [Required]
    public string Service { get; set; } = "agentry-planner";

    /// How far back the search looks for a run's traces.
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(7);

    /// Jaeger's UI as a person's browser reaches it, for the run page's links to each trace; may
    /// differ from QueryUrl (an address inside the cluster). Unset: no links.
    [Url]
    public string? UiUrl { get; set; }
}

/// A run's spans from Jaeger's query API (HTTP JSON, api/traces): one search for the traces that
/// hold a span of Service tagged with the run's id; Jaeger answers each trace whole. Written
/// against the JSON that Jaeger's UI reads (model/json), which the tests replay; it was not run
/// against a real Jaeger here.
public sealed class JaegerTraces(HttpClient http, IOptions<JaegerOptions> options, TimeProvider clock) : IRunTraces
{
    private readonly JaegerOptions _jaeger = options.Value;

    public string Source => $"Jaeger at {_jaeger.QueryUrl}";

    public string WhyNone => $"Jaeger has no span of service '{_jaeger.Service}' tagged with the run in the last {_jaeger.Lookback.TotalDays:0.#} days: the spans may not be exported yet (OTEL_EXPORTER_OTLP_ENDPOINT), sampled out, or past Jaeger's retention, or Tracing:Jaeger:Service names another service.";

    public async Task<IReadOnlyList<TraceSpan>> SpansOfRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var tags = JsonSerializer.Serialize(new Dictionary<string, string> { [AgentryTelemetry.Tags.RunId] = runId.ToString() });
        var query = $"api/traces?service={Uri.EscapeDataString(_jaeger.Service)}&tags={Uri.EscapeDataString(tags)}" +
            $"&start={Microseconds(now - _jaeger.Lookback)}&end={Microseconds(now)}&limit=50";
        var address = new Uri(new Uri(_jaeger.QueryUrl!.TrimEnd('/') + "/"), query);
        JsonDocument answer;
        try
        {
            using var response = await http.GetAsync(address, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new TraceStoreException($"{Source} answered {(int)response.StatusCode} {response.ReasonPhrase} to the search for run {runId}'s traces: {Shorten(body)}");
            }

            answer = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken) ?? throw new TraceStoreException($"{Source} answered nothing to the search for run {runId}'s traces.");
        }
        catch (HttpRequestException e)
        {
            throw new TraceStoreException($"{Source} could not be reached ({e.Message}): check Tracing:Jaeger:QueryUrl.", e);
        }
        catch (JsonException e)
        {
            throw new TraceStoreException($"{Source} answered something that is not Jaeger's JSON ({e.Message}): check that Tracing:Jaeger:QueryUrl is jaeger-query's address.", e);
        }

        using (answer)
        {
            return Spans(answer.RootElement);
        }
    }

    /// The spans of an api/traces answer: {"data": [trace...], "errors": [...]}.
    internal static IReadOnlyList<TraceSpan> Spans(JsonElement answer)
    {
        if (answer.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            throw new TraceStoreException($"Jaeger reported: {string.Join("; ", errors.EnumerateArray().Select(e => e.TryGetProperty("msg", out var msg) ? msg.GetString() : e.ToString()))}");
        }

        if (!answer.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var spans = new List<TraceSpan>();
        foreach (var trace in data.EnumerateArray())
        {
            var services = trace.TryGetProperty("processes", out var processes)
                ? processes.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("serviceName").GetString() ?? "")
                : [];
            foreach (var span in trace.GetProperty("spans").EnumerateArray())
            {
                var tags = new Dictionary<string, string>();
                foreach (var tag in span.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [])
                {
                    var value = tag.GetProperty("value");
                    tags[tag.GetProperty("key").GetString()!] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                }

                var parent = span.TryGetProperty("references", out var references)
                    ? references.EnumerateArray().FirstOrDefault(r => r.GetProperty("refType").GetString() == "CHILD_OF")
                    : default;
                spans.Add(new TraceSpan(
                    span.GetProperty("traceID").GetString()!,
                    span.GetProperty("spanID").GetString()!,
                    parent.ValueKind == JsonValueKind.Object ? parent.GetProperty("spanID").GetString() : null,
                    services.GetValueOrDefault(span.GetProperty("processID").GetString() ?? "", ""),
                    span.GetProperty("operationName").GetString() ?? "",
                    tags.GetValueOrDefault("span.kind", "internal"),
                    DateTimeOffset.UnixEpoch.AddTicks(span.GetProperty("startTime").GetInt64() * 10),
                    TimeSpan.FromTicks(span.GetProperty("duration").GetInt64() * 10),
                    Status(tags),
                    tags));
            }
        }

        return spans;
    }

    // OpenTelemetry's status reaches Jaeger as tags: otel.status_code (ERROR or OK), and error=true on an error.
    private static string Status(Dictionary<string, string> tags) =>
        tags.GetValueOrDefault("otel.status_code") switch
        {
            "ERROR" => TraceStatus.Error,
            "OK" => TraceStatus.Ok,
            _ => tags.GetValueOrDefault("error") == "true" ? TraceStatus.Error : TraceStatus.Unset,
        };

    private static string Microseconds(DateTimeOffset at) =>
        ((at - DateTimeOffset.UnixEpoch).Ticks / 10).ToString(CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
