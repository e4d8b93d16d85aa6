using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using StackExchange.Redis;

namespace Agentry.ServiceDefaults.Payloads;

public static class PayloadRegistration
{
    /// The payload store and its readers: the file store always (embedded runs, and references written
    /// by one), Redis and MongoDB when their connection strings are set. Safe to call from every stage.
    public static IServiceCollection AddAgentryPayloads(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(PayloadStore)))
        {
            return services;
        }

        services.AddOptions<PayloadOptions>().BindConfiguration(PayloadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var mongo = StoreConnections.Mongo(configuration);
        var redis = RedisRegistration.HasRedis(configuration);
        var configured = configuration[$"{PayloadOptions.Section}:{nameof(PayloadOptions.Store)}"];
        var choice = string.IsNullOrWhiteSpace(configured) ? mongo is not null ? "mongodb" : redis ? "redis" : "file" : configured.Trim().ToLowerInvariant();
        var problem = choice switch
        {
            "file" => null,
            "redis" when !redis => "Payloads:Store is redis, but ConnectionStrings:redis is not set.",
            "mongodb" when mongo is null => "Payloads:Store is mongodb, but ConnectionStrings:mongodb is not set.",
            "redis" or "mongodb" => null,
            _ => $"Payloads:Store is '{configured}'; it must be file, redis or mongodb (or empty: chosen by the connection strings).",
        };
        if (problem is not null)
        {
            throw new InvalidOperationException(problem);
        }

        services.AddSingleton(new PayloadStoreChoice(choice));
        services.AddSingleton<IPayloadStore>(provider =>
            new FilePayloadStore(provider.GetRequiredService<IOptions<PayloadOptions>>().Value.Directory is { Length: > 0 } directory ? directory : DefaultDirectory(configuration)));
        if (redis)
        {
            services.AddAgentryRedis(configuration);
            services.AddSingleton<IPayloadStore>(provider =>
            {
                var options = provider.GetRequiredService<IOptions<PayloadOptions>>().Value;
                return new RedisPayloadStore(provider.GetRequiredService<IConnectionMultiplexer>(), options.RedisKeyPrefix, options.RedisRetention);
            });
        }

        if (mongo is not null)
        {
            services.AddSingleton<IPayloadStore>(_ =>
            {
                var url = new MongoUrl(mongo);
                return new MongoPayloadStore(new MongoClient(url).GetDatabase(url.DatabaseName ?? StoreConnections.DefaultMongoDatabase));
            });
        }

        services.TryAddSingleton<PayloadStore>();
        return services;
    }

    /// `payloads` beside the SQLite file the embedded stores use; a temporary folder for an in-memory one.
    public static string DefaultDirectory(IConfiguration configuration)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = StoreConnections.Sqlite(configuration) };
        var source = builder.TryGetValue("Data Source", out var value) ? value as string : builder.TryGetValue("DataSource", out value) ? value as string : null;
        return string.IsNullOrWhiteSpace(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            ? Path.Combine(Path.GetTempPath(), "agentry-payloads")
            : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(source))!, "payloads");
    }
}
