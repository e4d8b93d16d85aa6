using Agentry.Notifier.Channels;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Notifier;

public static class NotifierRegistration
{
    public static IServiceCollection AddNotifier(this IServiceCollection services)
    {
        services.AddOptions<NotifierOptions>().BindConfiguration(NotifierOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(WebhookChannel.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        // The Slack URL carries the webhook's token: the factory's request logging would write it out.
        services.AddHttpClient(SlackChannel.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10)).RemoveAllLoggers();
        services.AddSingleton<INotificationChannel, WebhookChannel>();
        services.AddSingleton<INotificationChannel, SlackChannel>();
        services.AddSingleton<INotificationChannel, EmailChannel>();
        services.AddSingleton<NotificationDispatcher>();
        return services;
    }

    public static void AddNotifierConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<OutcomeConsumer>();
        bus.AddConsumer<ApprovalRequestConsumer>();
        bus.AddConsumer<DeliverNotificationConsumer>();
    }
}
