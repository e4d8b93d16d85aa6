using Agentry.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers.Schedules;

public static class ScheduleRegistration
{
    /// The scheduler and its store: Redis when the connection string `redis` is set (every replica
    /// shares it: decision 0024), else the embedded SQLite file. MongoDB is not a schedule store: a
    /// deployment of several Gateways has Redis.
    public static IServiceCollection AddSchedules(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        if (RedisRegistration.HasRedis(configuration))
        {
            services.AddAgentryRedis(configuration);
            services.TryAddSingleton<IScheduleStore, RedisScheduleStore>();
        }
        else
        {
            services.TryAddSingleton<IScheduleStore>(provider => new SqliteScheduleStore(
                StoreConnections.Sqlite(configuration), provider.GetRequiredService<IOptions<ScheduleOptions>>()));
        }

        services.TryAddSingleton<Scheduler>();
        services.AddHostedService<ScheduleService>();
        return services;
    }
}
