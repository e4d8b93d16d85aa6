using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Agentry.ServiceDefaults.Telemetry;

public static class TelemetryExtensions
{
    /// The standard variable that turns OTLP export on (docs/observability.md).
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";
    public const string ShutdownTimeoutKey = "Shutdown:Timeout";

    /// True when spans, metrics and logs leave the process over OTLP.
    public static bool IsOtlpExportOn(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    /// Traces, metrics and logs for a process, whatever it hosts: always recorded (so every run has a
    /// trace id and GET /metrics has numbers), exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT
    /// is set; the other OTEL_* variables (protocol, headers, sampler, batch delays) work as documented
    /// upstream. service.name is OTEL_SERVICE_NAME, else the name given here.
    public static IServiceCollection AddAgentryTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                configuration[ServiceNameKey] is { Length: > 0 } configured ? configured : serviceName,
                serviceInstanceId: Environment.MachineName + "/" + Environment.ProcessId))
            .WithTracing(tracing => tracing
                .AddSource(AgentryTelemetry.Name, AgentryTelemetry.MassTransit)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    aspNetCore.Filter = http => !IsInfrastructurePath(http.Request.Path))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(AgentryTelemetry.Name, AgentryTelemetry.MassTransit)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                // .NET's own runtime meter: GC, thread pool, exceptions.
                .AddMeter("System.Runtime")
                .AddPrometheusExporter())
            .WithLogging(logging => { }, options =>
            {
                options.IncludeScopes = true;
                options.IncludeFormattedMessage = true;
            });

        if (IsOtlpExportOn(configuration))
        {
            telemetry.UseOtlpExporter();
        }

        // Every log written inside a span carries its trace and span ids as a scope, for whichever
        // logging provider prints scopes (the OpenTelemetry one records them on each log record).
        services.Configure<LoggerFactoryOptions>(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        return services;
    }

    /// On SIGTERM (a Kubernetes rollout, docker stop) the host stops taking messages and gives the
    /// ones in flight this long to finish (Shutdown:Timeout, default 30 s); consumers still running
    /// near the end are cancelled so they can release what they hold.
    public static IServiceCollection AddAgentryShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        var timeout = configuration.GetValue(ShutdownTimeoutKey, TimeSpan.FromSeconds(30));
        if (timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{ShutdownTimeoutKey} must be a positive time span such as 00:00:30 (environment Shutdown__Timeout), not {timeout}.");
        }

        services.Configure<HostOptions>(options => options.ShutdownTimeout = timeout);
        services.Configure<MassTransitHostOptions>(options =>
        {
            options.StopTimeout = timeout;
            options.ConsumerStopTimeout = timeout * 0.8;
        });
        return services;
    }

    // Probes and scrapes every few seconds would bury the runs' traces.
    private static bool IsInfrastructurePath(string? path) =>
        path is not null && (path.StartsWith("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/metrics", StringComparison.OrdinalIgnoreCase));
}
