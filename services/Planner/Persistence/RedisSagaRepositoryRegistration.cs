using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Planner.Persistence;

public static class RedisSagaRepositoryRegistration
{
    /// Keeps the saga's instances in Redis with optimistic concurrency on ISagaVersion.Version.
    /// Needs an IConnectionMultiplexer in the container (ServiceDefaults' AddAgentryRedis).
    public static ISagaRegistrationConfigurator<TSaga> RedisRepository<TSaga>(
        this ISagaRegistrationConfigurator<TSaga> saga,
        Func<IServiceProvider, RedisSagaRepositoryOptions<TSaga>> options)
        where TSaga : class, ISagaVersion
    {
        saga.Repository(repository =>
        {
            repository.TryAddSingleton<RedisSagaRepositoryOptions<TSaga>>(options);
            repository.TryAddSingleton<RedisSagaStore<TSaga>>();
            // Load first: RegisterSagaRepository only fills the load slot when it is still empty.
            repository.RegisterLoadSagaRepository<TSaga, RedisSagaRepositoryContextFactory<TSaga>>();
            repository.RegisterSagaRepository<TSaga, RedisSagaStore<TSaga>, SagaConsumeContextFactory<RedisSagaStore<TSaga>, TSaga>, RedisSagaRepositoryContextFactory<TSaga>>();
        });
        return saga;
    }
}
