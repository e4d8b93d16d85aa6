using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Evaluator;

public static class EvaluatorRegistration
{
    public static IServiceCollection AddEvaluator(this IServiceCollection services)
    {
        services.TryAddSingleton<ICallHistory, InMemoryCallHistory>();
        return services;
    }

    public static void AddEvaluatorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<FinalAnswerConsumer>();
        bus.AddConsumer<ToolResultConsumer>();
        bus.AddConsumer<RunEndedConsumer>();
    }
}
