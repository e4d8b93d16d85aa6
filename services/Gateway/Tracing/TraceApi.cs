using System.Security.Claims;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Agentry.Gateway.Tracing;

/// GET /runs/{id}/trace: the run's spans as a timeline (docs/console.md), from whichever trace
/// store this Gateway has: Jaeger when Tracing:Jaeger:QueryUrl is set, else, in `agentry serve`,
/// the spans this process recorded itself.
public static class TraceApi
{
    public static IEndpointRouteBuilder MapTraceApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/runs/{runId:guid}/trace", async (Guid runId, ClaimsPrincipal caller, IRequestClient<GetRun> memory, IServiceProvider services, IOptions<JaegerOptions> jaeger, CancellationToken cancellationToken) =>
        {
            if (await RunsApi.RunOf(runId, caller, memory, cancellationToken) is null)
            {
                return RunsApi.NotFound(runId);
            }

            if (services.GetService<IRunTraces>() is not { } traces)
            {
                return Results.Problem(
                    "No trace store is configured: this Gateway keeps no spans of its own and reads no Jaeger. Set Tracing:Jaeger:QueryUrl to jaeger-query's address (docs/observability.md).",
                    statusCode: StatusCodes.Status404NotFound, title: "No trace.");
            }

            IReadOnlyList<TraceSpan> spans;
            try
            {
                spans = await traces.SpansOfRunAsync(runId, cancellationToken);
            }
            catch (TraceStoreException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status502BadGateway, title: "The trace could not be read.");
            }

            return spans.Count == 0
                ? Results.Problem($"No span of run {runId} is in {traces.Source}: {traces.WhyNone}", statusCode: StatusCodes.Status404NotFound, title: "No trace.")
                : Results.Ok(RunTimeline.Build(runId, traces.Source, spans, jaeger.Value.UiUrl));
        }).RequireAuthorization(GatewayRoles.Read);
        return app;
    }

    /// Jaeger as the trace store when Tracing:Jaeger:QueryUrl is set.
    public static IServiceCollection AddRunTraces(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JaegerOptions>().BindConfiguration(JaegerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (IsJaegerConfigured(configuration))
        {
            services.AddHttpClient<IRunTraces, JaegerTraces>(http => http.Timeout = TimeSpan.FromSeconds(15));
        }

        return services;
    }

    /// The spans of this process's recent runs as the trace store, for `agentry serve`, where every
    /// service runs here; unless Jaeger is configured, which then answers instead.
    public static IServiceCollection AddRecentTraces(this IServiceCollection services, IConfiguration configuration)
    {
        if (IsJaegerConfigured(configuration))
        {
            return services;
        }

        services.AddOptions<RecentTracesOptions>().BindConfiguration(RecentTracesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecentTraces>();
        services.AddSingleton<IRunTraces>(provider => provider.GetRequiredService<RecentTraces>());
        services.ConfigureOpenTelemetryTracerProvider((provider, tracing) => tracing.AddProcessor(provider.GetRequiredService<RecentTraces>()));
        return services;
    }

    private static bool IsJaegerConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{JaegerOptions.Section}:{nameof(JaegerOptions.QueryUrl)}"]);
}
