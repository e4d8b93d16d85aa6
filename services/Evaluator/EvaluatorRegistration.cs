using Agentry.Llm;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Evaluator;

public static class EvaluatorRegistration
{
    /// The call history lives in Redis when the connection string `redis` is set, so that loop
    /// detection sees every step whichever Evaluator received it; in memory otherwise.
    public static IServiceCollection AddEvaluator(this IServiceCollection services, IConfiguration configuration)
    {
        if (RedisRegistration.HasRedis(configuration))
        {
            services.AddAgentryRedis(configuration);
            services.AddOptions<EvaluatorRedisOptions>()
                .BindConfiguration(EvaluatorRedisOptions.Section)
                .ValidateDataAnnotations()
                .ValidateOnStart();
            services.TryAddSingleton<ICallHistory, RedisCallHistory>();
        }
        else
        {
            services.TryAddSingleton<ICallHistory, InMemoryCallHistory>();
        }

        // The model judge asks through the ModelGateway (the offline model when none is configured).
        services.AddAgentryLlm(configuration);
        services.TryAddSingleton<ModelJudge>();
        return services;
    }

    public static void AddEvaluatorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<FinalAnswerConsumer>();
        bus.AddConsumer<ToolResultConsumer>();
        bus.AddConsumer<RunEndedConsumer>();
    }
}
