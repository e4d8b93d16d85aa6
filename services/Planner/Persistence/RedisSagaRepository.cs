using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace Agentry.Planner.Persistence;

/// MassTransit's entry point into the Redis store, one per message scope: it opens a repository
/// context around each consumed message and serves loads by id (the test harness and tools use those).
/// Sagas are correlated by id only; query correlation would need an index Redis does not keep.
public sealed class RedisSagaRepositoryContextFactory<TSaga>(
    RedisSagaStore<TSaga> store,
    ISagaConsumeContextFactory<RedisSagaStore<TSaga>, TSaga> consumeContextFactory) :
    ISagaRepositoryContextFactory<TSaga>,
    ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
{
    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class =>
        next.Send(new RedisSagaRepositoryContext<TSaga, T>(store, context, consumeContextFactory));

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        throw new NotSupportedException(
            $"The Redis saga repository finds {typeof(TSaga).Name} instances by correlation id only; correlate {typeof(T).Name} by id.");

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new RedisLoadSagaRepositoryContext<TSaga>(store, cancellationToken));

    public void Probe(ProbeContext context) =>
        context.Add("persistence", "redis");
}

/// One consumed message's view of the repository. It remembers the instance it loaded, so that an
/// update can tell whether the state machine changed anything.
public sealed class RedisSagaRepositoryContext<TSaga, TMessage>(
    RedisSagaStore<TSaga> store,
    ConsumeContext<TMessage> context,
    ISagaConsumeContextFactory<RedisSagaStore<TSaga>, TSaga> factory) :
    ConsumeContextScope<TMessage>(context),
    SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    private readonly ConsumeContext<TMessage> _consumeContext = context;
    private LoadedSaga<TSaga>? _loaded;

    /// A new instance made by the state machine's initial event; it is written by Save, after the machine ran.
    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        factory.CreateSagaConsumeContext(store, _consumeContext, instance, SagaConsumeContextMode.Add);

    /// Written before the machine runs (InsertOnInitial). If the instance exists already MassTransit
    /// expects null and loads the existing one instead.
    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance) =>
        await store.InsertAsync(instance)
            ? await factory.CreateSagaConsumeContext(store, _consumeContext, instance, SagaConsumeContextMode.Insert)
            : null!;

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        _loaded = await store.LoadAsync(correlationId);
        return _loaded is null
            ? null!
            : await factory.CreateSagaConsumeContext(store, _consumeContext, _loaded.Instance, SagaConsumeContextMode.Load);
    }

    public Task Save(SagaConsumeContext<TSaga> context) => store.InsertOrConflictAsync(context.Saga);

    public Task Update(SagaConsumeContext<TSaga> context) =>
        store.UpdateAsync(context.Saga, ReferenceEquals(context.Saga, _loaded?.Instance) ? _loaded.Baseline : null);

    public Task Delete(SagaConsumeContext<TSaga> context) => store.DeleteAsync(context.Saga);

    // Nothing was written for a discarded or undone instance: there is nothing to take back.
    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        factory.CreateSagaConsumeContext(store, consumeContext, instance, mode);
}

public sealed class RedisLoadSagaRepositoryContext<TSaga>(RedisSagaStore<TSaga> store, CancellationToken cancellationToken) :
    BasePipeContext(cancellationToken),
    LoadSagaRepositoryContext<TSaga>
    where TSaga : class, ISagaVersion
{
    public async Task<TSaga> Load(Guid correlationId) => (await store.LoadAsync(correlationId))?.Instance!;
}
