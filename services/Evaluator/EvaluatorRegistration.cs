using Agentry.Agents;
using Agentry.Evaluation.Online;
using Agentry.Evaluation.Stores.Sqlite;
using Agentry.Evaluator.Online;
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
            services.TryAddSingleton<IOnlineGradeStore, RedisOnlineGradeStore>();
        }
        else
        {
            services.TryAddSingleton<ICallHistory, InMemoryCallHistory>();
        }

        // The model judge asks through the ModelGateway (the offline model when none is configured).
        services.AddAgentryLlm(configuration);
        services.TryAddSingleton<ModelJudge>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OnlineGrading>();
        services.TryAddSingleton(_ => OnlineGradeStore(configuration));
        services.AddPinnedAgents();
        return services;
    }

    public static void AddEvaluatorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<FinalAnswerConsumer>();
        bus.AddConsumer<ToolResultConsumer>();
        bus.AddConsumer<RunEndedConsumer>();
        bus.AddConsumer<OnlineEvaluationConsumer>();
    }

    /// Online grades are shared in Redis when it is set (above: every replica and restart sees one
    /// window per agent), else kept where the eval runs are: the SQLite file when `sqlite` is set
    /// (embedded), else in memory. The run's own place in its agent's windows comes from the store.
    private static IOnlineGradeStore OnlineGradeStore(IConfiguration configuration) =>
        configuration.GetConnectionString("sqlite") is { Length: > 0 } sqlite
            ? new SqliteOnlineGradeStore(sqlite)
            : new InMemoryOnlineGradeStore();
}
