using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Notifier;

public static class NotifierRegistration
{
    public static IServiceCollection AddNotifier(this IServiceCollection services)
    {
        services.AddHttpClient(OutcomeConsumer.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        return services;
    }

    public static void AddNotifierConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<OutcomeConsumer>();
        bus.AddConsumer<ApprovalRequestConsumer>();
    }
}
