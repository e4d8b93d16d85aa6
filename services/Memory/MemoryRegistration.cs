using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Memory;

public static class MemoryRegistration
{
    public static IServiceCollection AddMemory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MemoryOptions>().Configure(options =>
        {
            if (configuration.GetConnectionString(MemoryOptions.SqliteConnectionName) is { Length: > 0 } sqlite)
            {
                options.SqliteConnectionString = sqlite;
            }
        });
        services.TryAddSingleton<ITranscriptStore, SqliteTranscriptStore>();
        services.ResolveAtStart<ITranscriptStore>();
        return services;
    }

    public static void AddMemoryConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ContextRequestedConsumer>();
        bus.AddConsumer<TranscriptConsumer>();
        bus.AddConsumer<GetRunConsumer>();
    }
}
