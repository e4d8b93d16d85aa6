using Agentry.ServiceDefaults.Payloads;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.ServiceDefaults.Versions;
using MassTransit;
using MassTransit.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.ServiceDefaults;

public static class Extensions
{
    public const string DefaultTenant = "default";

    /// The one defaulting rule for a tenant a publisher left out, applied by every service that
    /// reads a run's first message (the saga, Memory), so that they record the same tenant.
    public static string TenantOf(string? tenantId) => string.IsNullOrWhiteSpace(tenantId) ? DefaultTenant : tenantId;

    /// Endpoints named with this prefix are per-process and temporary (a CLI following a run):
    /// classic auto-delete queues, which cannot be quorum queues.
    public const string TemporaryEndpointPrefix = "agentry-temp-";

    /// What every Agentry process needs, whether it hosts one service or all of them:
    /// the clock, health checks, telemetry (traces, metrics, logs under `serviceName`) and a
    /// graceful shutdown. The agent model (agents, tools) is each service's own registration.
    public static IServiceCollection AddAgentryCore(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        services.AddAgentryTelemetry(configuration, serviceName);
        services.AddAgentryShutdown(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);
        return services;
    }

    /// The one place the transport is chosen: RabbitMQ when the connection string `rabbitmq` is set,
    /// the in-memory transport otherwise. Each stage registers its consumers through `stages`.
    public static IServiceCollection AddAgentryBus(
        this IServiceCollection services,
        IConfiguration configuration,
        params Action<IBusRegistrationConfigurator>[] stages)
    {
        var rabbitMq = configuration.GetConnectionString("rabbitmq");
        services.AddAgentryPayloads(configuration);
        services.AddMassTransit(bus =>
        {
            ConfigureAgentryBus(bus, stages);
            if (string.IsNullOrWhiteSpace(rabbitMq))
            {
                bus.UsingInMemory((context, transport) =>
                {
                    // MassTransit's meter (consume counts, durations, errors, retries): see docs/observability.md.
                    transport.UseInstrumentation(serviceName: AppDomain.CurrentDomain.FriendlyName);
                    transport.UseRawJsonDeserializer(isDefault: false);
                    UseContractVersions(transport);
                    UseMessageBound(transport, configuration);
                    // MassTransit's default (twice the cores) starves I/O-bound consumers on small
                    // machines; see docs/performance.md.
                    transport.PrefetchCount = configuration.GetValue("Bus:PrefetchCount", 32);
                    transport.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingRabbitMq((context, transport) =>
                {
                    transport.Host(new Uri(rabbitMq), host =>
                    {
                        host.PublisherConfirmation = true;
                        host.Heartbeat(TimeSpan.FromSeconds(10));
                        host.ConnectionName(AppDomain.CurrentDomain.FriendlyName);
                    });
                    transport.UseInstrumentation(serviceName: AppDomain.CurrentDomain.FriendlyName);
                    // Upstream systems may publish plain JSON (content type application/json) without
                    // MassTransit's envelope; see docs/integration.md.
                    transport.UseRawJsonDeserializer(isDefault: false);
                    UseContractVersions(transport);
                    UseMessageBound(transport, configuration);
                    // MassTransit's default (twice the cores) starves I/O-bound consumers on small
                    // machines; see docs/performance.md.
                    transport.PrefetchCount = configuration.GetValue("Bus:PrefetchCount", 32);
                    transport.ConfigureEndpoints(context);
                });
            }
        });
        if (!string.IsNullOrWhiteSpace(rabbitMq))
        {
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<IQueueConsumerCounts, RabbitMqQueueConsumerCounts>();
            services.AddHostedService<ConsumerWatchdog>();
        }

        return services;
    }

    /// Every contract the bus sends or publishes carries its schema version (docs/durability.md).
    public static void UseContractVersions(IBusFactoryConfigurator bus)
    {
        var stamp = new ContractVersionStamp();
        bus.ConfigureSend(send => send.ConnectSendPipeSpecificationObserver(stamp));
        bus.ConfigurePublish(publish => publish.ConnectPublishPipeSpecificationObserver(stamp));
    }

    /// Every message the bus sends or publishes is held to Payloads:MaxMessageBytes (docs/durability.md).
    public static void UseMessageBound(IBusFactoryConfigurator transport, IConfiguration configuration)
    {
        var bound = new MessageBoundSpecification(configuration.GetValue($"{PayloadOptions.Section}:{nameof(PayloadOptions.MaxMessageBytes)}", new PayloadOptions().MaxMessageBytes));
        transport.ConfigureSend(send => send.ConnectSendPipeSpecificationObserver(bound));
        transport.ConfigurePublish(publish => publish.ConnectPublishPipeSpecificationObserver(bound));
    }

    /// Endpoint conventions shared by the real bus and the test harness, so tests run the same pipeline.
    public static void ConfigureAgentryBus(IBusRegistrationConfigurator bus, IEnumerable<Action<IBusRegistrationConfigurator>> stages)
    {
        bus.SetKebabCaseEndpointNameFormatter();
        // MassTransit 8.4+ reports anonymous usage to its vendor after the bus starts, enumerating the
        // endpoints while it does: a deployment should send nothing it was not asked to, and the
        // Gateway's event subscriptions connect endpoints right after start, which that enumeration
        // does not tolerate ("Collection was modified", the bus start faulted).
        bus.DisableUsageTelemetry();
        bus.AddConfigureEndpointsCallback((context, name, endpoint) =>
        {
            // A contract of a version this build does not read is refused before anything reads its body.
            endpoint.UseFilter(new ContractVersionCheck());
            // Immediate retries first (a lost race, a conflict), then growing waits (a peer restarting).
            // Not when the broker went away: the delivery cannot be acknowledged on the lost channel
            // and comes back on its own; retrying would only hold up the endpoint's reconnection.
            endpoint.UseMessageRetry(retry =>
            {
                retry.Ignore<Exception>(BrokerOutageFilter.IsBrokerUnavailable);
                // A version this build does not read stays unread however often it is tried.
                retry.Ignore<UnreadableVersionException>();
                // A message or run state over its bound would be just as large on every retry.
                retry.Ignore<PayloadBoundException>();
                retry.Intervals(0, 0, 20, 100, 500, 2000);
            });
            // Messages a consumer publishes go out only after it succeeded, so a retried
            // consume never publishes twice and a failed one publishes nothing.
            endpoint.UseInMemoryOutbox(context);
            endpoint.ConfigureError(error =>
            {
                error.UseFilter(new BrokerOutageFilter());
                error.UseFilter(new GenerateFaultFilter());
                error.UseFilter(new ErrorTransportFilter());
                error.UseFilter(new PoisonMessageReporter(context.GetRequiredService<ILoggerFactory>().CreateLogger<PoisonMessageReporter>()));
            });
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbitMq && !name.StartsWith(TemporaryEndpointPrefix, StringComparison.Ordinal)
                && context.GetRequiredService<IConfiguration>().GetValue("Bus:QuorumQueues", true))
            {
                // Replicated and durable; see docs/decisions/0007-rabbitmq-queues-and-redelivery.md.
                rabbitMq.SetQuorumQueue();
            }
        });
        foreach (var stage in stages)
        {
            stage(bus);
        }
    }

    /// For a process that hosts services: core, health endpoints' checks, and the bus.
    public static IHostApplicationBuilder AddAgentryDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAgentryCore(builder.Configuration, ServiceName(builder.Environment.ApplicationName));
        return builder;
    }

    /// The telemetry service.name of an application: Agentry.ToolExecutor is agentry-tool-executor.
    public static string ServiceName(string applicationName)
    {
        var name = new System.Text.StringBuilder(applicationName.Length + 4);
        for (var i = 0; i < applicationName.Length; i++)
        {
            var c = applicationName[i];
            if (c == '.')
            {
                name.Append('-');
            }
            else
            {
                if (char.IsUpper(c) && i > 0 && char.IsLower(applicationName[i - 1]))
                {
                    name.Append('-');
                }

                name.Append(char.ToLowerInvariant(c));
            }
        }

        return name.ToString();
    }

    /// What every service answers over HTTP: health checks and the Prometheus scrape endpoint (GET /metrics).
    public static WebApplication MapAgentryEndpoints(this WebApplication app)
    {
        app.MapAgentryHealth();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }

    public static WebApplication MapAgentryHealth(this WebApplication app)
    {
        // Open to probes without a credential, also where the Gateway asks one of every other endpoint.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") }).AllowAnonymous();
        // MassTransit's bus health check carries the `ready` tag.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = WriteHealthReport }).AllowAnonymous();
        return app;
    }

    // Readiness names what is not ready (MassTransit reports each receive endpoint), so an operator
    // or a failing test sees which queue a service stopped consuming.
    private static Task WriteHealthReport(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new
                {
                    status = entry.Value.Status.ToString(),
                    description = entry.Value.Description,
                    data = entry.Value.Data.ToDictionary(d => d.Key, d => Describe(d.Value)),
                }),
        }));

        static string? Describe(object value)
        {
            try
            {
                return System.Text.Json.JsonSerializer.Serialize(value);
            }
            catch (Exception e) when (e is NotSupportedException or System.Text.Json.JsonException or InvalidOperationException)
            {
                return value.ToString();
            }
        }
    }

    /// Builds a singleton when the host starts, so a bad configuration it checks stops the
    /// service at once instead of failing the first message that needs it.
    public static IServiceCollection ResolveAtStart<T>(this IServiceCollection services)
        where T : notnull
    {
        services.AddHostedService<StartupResolution<T>>();
        return services;
    }

    private sealed class StartupResolution<T>(IServiceProvider services) : IHostedService
        where T : notnull
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<T>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
