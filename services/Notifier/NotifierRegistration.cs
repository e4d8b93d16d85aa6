using Agentry.Agents;
using Agentry.Notifier.Channels;
using Agentry.Notifier.Delivery;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Notifier;

public static class NotifierRegistration
{
    /// Deliveries are remembered in Redis when the connection string `redis` is set, so that every
    /// replica sends a notification once; in memory otherwise.
    public static IServiceCollection AddNotifier(this IServiceCollection services, IConfiguration? configuration = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        if (configuration is not null && RedisRegistration.HasRedis(configuration))
        {
            services.AddAgentryRedis(configuration);
            services.AddOptions<DeliveryLedgerOptions>().BindConfiguration(DeliveryLedgerOptions.Section);
            services.TryAddSingleton<IDeliveryLedger, RedisDeliveryLedger>();
        }
        else
        {
            services.TryAddSingleton<IDeliveryLedger, InMemoryDeliveryLedger>();
        }

        services.AddOptions<NotifierOptions>().BindConfiguration(NotifierOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(WebhookChannel.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        // The Slack URL carries the webhook's token: the factory's request logging would write it out.
        services.AddHttpClient(SlackChannel.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10)).RemoveAllLoggers();
        services.AddSingleton<INotificationChannel, WebhookChannel>();
        services.AddSingleton<INotificationChannel, SlackChannel>();
        services.AddSingleton<INotificationChannel, EmailChannel>();
        services.AddSingleton<NotificationDispatcher>();
        services.AddPinnedAgents();
        return services;
    }

    public static void AddNotifierConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<OutcomeConsumer>();
        bus.AddConsumer<ApprovalRequestConsumer>();
        bus.AddConsumer<OnlineScoreDropConsumer>();
        bus.AddConsumer<DeliverNotificationConsumer>();
    }
}
