using Agentry.ServiceDefaults.Payloads;
using Agentry.Gateway.Evaluations;
using Agentry.Gateway.WebConsole;
using Agentry.Gateway.Security;
using Agentry.Gateway.Tracing;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Events;
using Agentry.Gateway.Triggers.Schedules;
using Agentry.Gateway.Triggers.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Gateway;

/// The Gateway's HTTP surface, the same in its own process and in `agentry serve`.
public static class GatewayRegistration
{
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration) =>
        services.AddAgentryPayloads(configuration)
            .AddGatewaySecurity(configuration)
            .AddSingleton<TriggeredRuns>()
            .AddHostedService<EventSubscriptions>()
            .AddSchedules(configuration)
            .AddWebhooks(configuration)
            .AddRunTraces(configuration)
            .AddEvalResults(configuration);

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.UseGatewaySecurity();
        app.MapRunListApi();
        app.MapRunTotalsApi();
        app.MapAgentsApi();
        app.MapEvaluationsApi();
        app.MapRunsApi();
        app.MapTraceApi();
        app.MapMemoriesApi();
        app.MapKeysApi();
        app.MapAuditApi();
        app.MapSchedulesApi();
        app.MapArtifactsApi();
        app.MapWebhooksApi();
        app.MapConsole();
        return app;
    }
}
