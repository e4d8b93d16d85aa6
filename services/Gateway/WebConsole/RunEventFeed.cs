using System.Collections.Concurrent;
using System.Threading.Channels;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Agentry.Gateway.WebConsole;

/// A run's lifecycle event as the console receives it: Type is the message's name (StepPlanned,
/// ToolResult, RunCompleted...), Message the message as published.
public sealed record RunEvent(string Type, Guid RunId, string TenantId, object Message)
{
    /// The event a message is, or null for a message the console does not follow.
    public static RunEvent? Of(object message) => message switch
    {
        // A publisher may leave a goal's tenant out; the run is then the default tenant's (Extensions.TenantOf).
        GoalReceived m => Event(m, m.RunId, Extensions.TenantOf(m.TenantId)),
        StepPlanned m => Event(m, m.RunId, m.TenantId),
        ToolResult m => Event(m, m.RunId, m.TenantId),
        GoalEvaluated m => Event(m, m.RunId, m.TenantId),
        ApprovalRequested m => Event(m, m.RunId, m.TenantId),
        ApprovalDecided m => Event(m, m.RunId, m.TenantId),
        ApprovalAssigned m => Event(m, m.RunId, m.TenantId),
        EscalationSummarized m => Event(m, m.RunId, m.TenantId),
        RunResumed m => Event(m, m.RunId, m.TenantId),
        RunCompleted m => Event(m, m.RunId, m.TenantId),
        RunFailed m => Event(m, m.RunId, m.TenantId),
        RunEscalated m => Event(m, m.RunId, m.TenantId),
        RunCancelled m => Event(m, m.RunId, m.TenantId),
        RunGraded m => Event(m, m.RunId, m.TenantId),
        _ => null,
    };

    private static RunEvent Event(object message, Guid runId, string tenantId) => new(message.GetType().Name, runId, tenantId, message);
}

/// Hands the run events this Gateway sees to the callers following them (GET /runs/events).
/// Events are received only while someone follows (and for a linger after the last one leaves, so
/// a console moving between pages does not resubscribe): every event of every run is otherwise a
/// delivery nobody reads, about a tenth of a step's broker work (docs/performance.md). Over
/// RabbitMQ each Gateway process connects a temporary queue of its own, so every replica sees every
/// event; on the in-memory bus every event is published by this process, so the feed observes the
/// bus's publishes instead (an in-memory queue left without its consumer would keep filling).
/// A follower that does not keep up is dropped rather than buffered without bound: its stream ends,
/// and the console reconnects and reads the runs again.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim without AvailableWaitHandle holds nothing to release, and disposing it would strand a request still subscribing while the host stops.")]
public sealed partial class RunEventFeed(IBus bus, IReceiveEndpointConnector connector, IConfiguration configuration, ILogger<RunEventFeed> logger)
{
    private const int Backlog = 1_000;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<Channel<RunEvent>, string> _followers = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly bool _overBroker = !string.IsNullOrWhiteSpace(configuration.GetConnectionString("rabbitmq"));
    private IAsyncDisposable? _source;
    private long _subscriptions;

    /// How long events keep being received after the last follower left.
    public TimeSpan Linger { get; } = configuration.GetValue("Console:EventFeedLinger", TimeSpan.FromSeconds(30));

    /// Whether run events reach this Gateway now.
    public bool Receiving => _source is not null;

    /// The queue this Gateway receives events on while someone follows over RabbitMQ; null otherwise.
    public string? Queue { get; private set; }

    /// Follows the tenant's runs' events from the moment this returns: whatever is published after it
    /// reaches the subscription. Throws TimeoutException when the broker does not let the feed subscribe.
    public async Task<RunEventSubscription> SubscribeAsync(string tenantId, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(Backlog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _source ??= await ConnectAsync(cancellationToken);
            Interlocked.Increment(ref _subscriptions);
            _followers[channel] = tenantId;
        }
        finally
        {
            _gate.Release();
        }

        return new RunEventSubscription(this, channel);
    }

    public void Post(object message)
    {
        if (_followers.IsEmpty || RunEvent.Of(message) is not { } runEvent)
        {
            return;
        }

        foreach (var (channel, tenantId) in _followers)
        {
            if (tenantId == runEvent.TenantId && !channel.Writer.TryWrite(runEvent))
            {
                Leave(channel);
            }
        }
    }

    internal void Leave(Channel<RunEvent> channel)
    {
        channel.Writer.TryComplete();
        if (_followers.TryRemove(channel, out _) && _followers.IsEmpty)
        {
            _ = DisconnectWhenIdleAsync(Interlocked.Read(ref _subscriptions));
        }
    }

    private async Task<IAsyncDisposable> ConnectAsync(CancellationToken cancellationToken)
    {
        if (!_overBroker)
        {
            return new PublishedEvents(bus.ConnectPublishObserver(new PublishObserver(this)));
        }

        var queue = $"{Extensions.TemporaryEndpointPrefix}gateway-run-events-{NewId.NextGuid():N}";
        var handle = connector.ConnectReceiveEndpoint(queue, (_, endpoint) =>
        {
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbitMq)
            {
                rabbitMq.AutoDelete = true;
                rabbitMq.Durable = false;
            }

            endpoint.Consumer(() => new RunEventFeedConsumer(this));
        });
        try
        {
            await handle.Ready.WaitAsync(ConnectTimeout, cancellationToken);
        }
        catch
        {
            await handle.StopAsync(CancellationToken.None);
            throw;
        }

        Queue = queue;
        LogConnected(queue);
        return new ReceivedEvents(handle);
    }

    // Disconnects only if nobody subscribed since the last follower left, however briefly.
    private async Task DisconnectWhenIdleAsync(long subscriptionsWhenIdle)
    {
        try
        {
            await Task.Delay(Linger);
            await _gate.WaitAsync();
            try
            {
                if (_source is null || !_followers.IsEmpty || Interlocked.Read(ref _subscriptions) != subscriptionsWhenIdle)
                {
                    return;
                }

                var source = _source;
                _source = null;
                Queue = null;
                await source.DisposeAsync();
                LogDisconnected(Linger.TotalSeconds);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception e)
        {
            // The bus is stopping or the broker went away: the endpoint goes with the bus either way.
            LogDisconnectFailed(e.Message);
        }
    }

    private sealed class PublishedEvents(ConnectHandle handle) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            handle.Disconnect();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ReceivedEvents(HostReceiveEndpointHandle handle) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await handle.StopAsync(CancellationToken.None);
    }

    private sealed class PublishObserver(RunEventFeed feed) : IPublishObserver
    {
        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            feed.Post(context.Message);
            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run event feed: someone follows GET /runs/events, receiving run events on {Queue}.")]
    private partial void LogConnected(string queue);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run event feed: nobody has followed for {Seconds} s, no longer receiving run events.")]
    private partial void LogDisconnected(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run event feed: could not stop receiving run events ({Problem}).")]
    private partial void LogDisconnectFailed(string problem);
}

/// One follower's events; disposing it (or the request ending) stops following.
public sealed class RunEventSubscription(RunEventFeed feed, Channel<RunEvent> channel) : IDisposable
{
    public IAsyncEnumerable<RunEvent> ReadAllAsync(CancellationToken cancellationToken) => channel.Reader.ReadAllAsync(cancellationToken);

    public void Dispose() => feed.Leave(channel);
}

public sealed class RunEventFeedConsumer(RunEventFeed feed) :
    IConsumer<GoalReceived>,
    IConsumer<StepPlanned>,
    IConsumer<ToolResult>,
    IConsumer<GoalEvaluated>,
    IConsumer<ApprovalRequested>,
    IConsumer<ApprovalDecided>,
    IConsumer<ApprovalAssigned>,
    IConsumer<EscalationSummarized>,
    IConsumer<RunResumed>,
    IConsumer<RunCompleted>,
    IConsumer<RunFailed>,
    IConsumer<RunEscalated>,
    IConsumer<RunCancelled>,
    IConsumer<RunGraded>
{
    public Task Consume(ConsumeContext<GoalReceived> context) => Post(context.Message);

    public Task Consume(ConsumeContext<StepPlanned> context) => Post(context.Message);

    public Task Consume(ConsumeContext<ToolResult> context) => Post(context.Message);

    public Task Consume(ConsumeContext<GoalEvaluated> context) => Post(context.Message);

    public Task Consume(ConsumeContext<ApprovalRequested> context) => Post(context.Message);

    public Task Consume(ConsumeContext<ApprovalDecided> context) => Post(context.Message);

    public Task Consume(ConsumeContext<ApprovalAssigned> context) => Post(context.Message);

    public Task Consume(ConsumeContext<EscalationSummarized> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunResumed> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunCompleted> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunFailed> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunEscalated> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunCancelled> context) => Post(context.Message);

    public Task Consume(ConsumeContext<RunGraded> context) => Post(context.Message);

    private Task Post(object message)
    {
        feed.Post(message);
        return Task.CompletedTask;
    }
}
