using System.Linq.Expressions;
using System.Reflection;
using Agentry.Planner.Persistence;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Planner.StateMachines;

/// The saga's endpoint. Within one Planner, messages of one run wait for each other (partitioned by
/// run id) instead of racing to a version conflict in Redis; runs still proceed in parallel.
/// Conflicts remain possible only between Planner processes, where the endpoint's retry (the one
/// every Agentry endpoint has, ServiceDefaults' ConfigureAgentryBus) resolves them.
public sealed class AgentRunSagaDefinition : SagaDefinition<AgentRunState>
{
    private const int Partitions = 32;

    private static readonly MethodInfo PartitionMethod =
        typeof(AgentRunSagaDefinition).GetMethod(nameof(Partition), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// Every message the machine correlates to a run, read from the machine itself, so that an event
    /// added to it is partitioned too.
    public static IReadOnlyList<Type> PartitionedMessages(AgentRunStateMachine machine) =>
        [.. machine.Correlations.Select(correlation => correlation.DataType).Distinct()];

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<AgentRunState> sagaConfigurator,
        IRegistrationContext context)
    {
        // The in-memory repository locks each instance while a message is applied: nothing to wait for.
        if (context.GetService<RedisSagaRepositoryOptions<AgentRunState>>() is null)
        {
            return;
        }

        var partitioner = sagaConfigurator.CreatePartitioner(Partitions);
        foreach (var message in PartitionedMessages(context.GetRequiredService<AgentRunStateMachine>()))
        {
            PartitionMethod.MakeGenericMethod(message).Invoke(null, [sagaConfigurator, partitioner]);
        }
    }

    private static void Partition<T>(ISagaConfigurator<AgentRunState> saga, IPartitioner partitioner)
        where T : class
    {
        var runId = RunIdOf<T>();
        saga.Message<T>(m => m.UsePartitioner(partitioner, c => runId(c.Message)));
    }

    /// Every Agentry message carries RunId (docs/architecture.md, Messages): the machine correlates by it.
    private static Func<T, Guid> RunIdOf<T>()
    {
        var property = typeof(T).GetProperty("RunId", typeof(Guid))
            ?? throw new InvalidOperationException(
                $"{typeof(T).Name} is an event of {nameof(AgentRunStateMachine)} but has no Guid RunId to partition its messages by run; give it one, as every run message has.");
        var message = Expression.Parameter(typeof(T), "message");
        return Expression.Lambda<Func<T, Guid>>(Expression.Property(message, property), message).Compile();
    }
}
