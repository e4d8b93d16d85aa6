using System.Diagnostics;
using Agentry.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Agentry.Cli;

/// Where a person can look at a run's trace.
public static class TraceLinks
{
    public const string JaegerUrlKey = "AGENTRY_JAEGER_URL";
    public const string DefaultJaegerUrl = "http://localhost:16686";

    /// The trace in Jaeger's UI: when this process exports over OTLP (the Jaeger of docker-compose
    /// by default), or wherever AGENTRY_JAEGER_URL says, which also serves a CLI following a
    /// deployment that exports. Null when neither is set: there is no trace to look at. A bad
    /// address is said in the line rather than stopping the run.
    public static string? JaegerLine(IConfiguration configuration, ActivityTraceId traceId)
    {
        var configured = configuration[JaegerUrlKey];
        if (string.IsNullOrWhiteSpace(configured) && !TelemetryExtensions.IsOtlpExportOn(configuration))
        {
            return null;
        }

        var baseUrl = string.IsNullOrWhiteSpace(configured) ? DefaultJaegerUrl : configured;
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
        {
            return $"Jaeger: no link, {JaegerUrlKey} must be the http(s) address of Jaeger's UI, such as {DefaultJaegerUrl}, not '{baseUrl}'.";
        }

        return $"Jaeger: {new Uri(root, $"trace/{traceId}")}";
    }
}
