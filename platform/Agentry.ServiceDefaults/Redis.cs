using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Agentry.ServiceDefaults;

/// The one place the Redis connection is configured. Every store that keeps state in Redis (the saga,
/// run deadlines, call history) shares the multiplexer registered here, as StackExchange.Redis intends.
public static class RedisRegistration
{
    public const string ConnectionStringName = "redis";

    /// True when the connection string `redis` is set: the distributed stores replace the in-memory ones.
    public static bool HasRedis(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName));

    public static IServiceCollection AddAgentryRedis(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "The connection string 'redis' is not set. Set ConnectionStrings:redis (for example ConnectionStrings__redis=127.0.0.1:6379) or leave Redis out.");
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException(
                $"The connection string 'redis' is not a StackExchange.Redis configuration string (like \"host:6379,password=...\"): {e.Message}", e);
        }

        // Keep retrying in the background instead of failing the first resolution: a Redis that starts
        // after the service is the normal case in docker-compose and Kubernetes.
        options.AbortOnConnectFail = false;

        // A factory, so the connection is made when a store first needs it, not when services are registered.
        services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        if (!services.Any(s => s.ServiceType == typeof(RedisHealthCheck)))
        {
            services.AddSingleton<RedisHealthCheck>();
            services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", HealthStatus.Unhealthy, tags: ["ready"]);
        }

        return services;
    }
}

/// Ready only while Redis answers a PING: without it the saga can neither load nor save a run.
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered a PING in {latency.TotalMilliseconds:0.#} ms.");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Redis did not answer a PING: {e.Message}", e);
        }
    }
}
