using Agentry.Gateway.Stores.Mongo;
using Agentry.Gateway.Stores.Sqlite;
using Agentry.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;

namespace Agentry.Gateway.Triggers.Webhooks;

public static class WebhookRegistration
{
    /// The webhook endpoint's parts, and the inbox where the key store is: MongoDB when `mongodb`
    /// is set, else the SQLite file.
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<WebhookSecrets>();
        services.TryAddSingleton<WebhookDeliveries>();
        services.AddHostedService<WebhookSecretsCheck>();
        if (StoreConnections.Mongo(configuration) is { } mongodb)
        {
            var url = MongoUrl.Create(mongodb);
            services.TryAddSingleton<IWebhookInbox>(provider => new MongoWebhookInbox(
                (provider.GetService<IMongoClient>() ?? new MongoClient(url)).GetDatabase(url.DatabaseName ?? StoreConnections.DefaultMongoDatabase)));
        }
        else
        {
            services.TryAddSingleton<IWebhookInbox>(_ => new SqliteWebhookInbox(StoreConnections.Sqlite(configuration)));
        }

        return services;
    }
}
