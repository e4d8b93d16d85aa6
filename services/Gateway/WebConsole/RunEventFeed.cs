using System.Collections.Concurrent;
using System.Threading.Channels;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using MassTransit;

namespace Agentry.Gateway.WebConsole;

/// A run's lifecycle event as the console receives it: Type is the message's name (StepPlanned,
/// ToolResult, RunCompleted...), Message the message as published.
public sealed record RunEvent(string Type, Guid RunId, string TenantId, object Message);

/// Hands the run events this Gateway receives to the callers following them (GET /runs/events).
/// Each Gateway process has a queue of its own for them (a temporary endpoint), so every replica
/// sees every event. A follower that does not keep up is dropped rather than buffered without
/// bound: its stream ends, and the console reconnects and reads the runs again.
public sealed class RunEventFeed
{
    private const int Backlog = 1_000;

    private readonly ConcurrentDictionary<Channel<RunEvent>, string> _followers = new();

    /// Events of the tenant's runs from now on, until the token is cancelled or the follower falls behind.
    public async IAsyncEnumerable<RunEvent> FollowAsync(string tenantId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(Backlog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _followers[channel] = tenantId;
        try
        {
            await foreach (var runEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return runEvent;
            }
        }
        finally
        {
            _followers.TryRemove(channel, out _);
        }
    }

    public void Post(RunEvent runEvent)
    {
        foreach (var (channel, tenantId) in _followers)
        {
            if (tenantId == runEvent.TenantId && !channel.Writer.TryWrite(runEvent))
            {
                channel.Writer.TryComplete();
            }
        }
    }
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
    // A publisher may leave a goal's tenant out; the run is then the default tenant's (Extensions.TenantOf).
    public Task Consume(ConsumeContext<GoalReceived> context) => Post(context.Message.RunId, Extensions.TenantOf(context.Message.TenantId), context.Message);

    public Task Consume(ConsumeContext<StepPlanned> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<ToolResult> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<GoalEvaluated> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<ApprovalRequested> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<ApprovalDecided> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<ApprovalAssigned> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<EscalationSummarized> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunResumed> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunCompleted> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunFailed> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunEscalated> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunCancelled> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    public Task Consume(ConsumeContext<RunGraded> context) => Post(context.Message.RunId, context.Message.TenantId, context.Message);

    private Task Post(Guid runId, string tenantId, object message)
    {
        feed.Post(new RunEvent(message.GetType().Name, runId, tenantId, message));
        return Task.CompletedTask;
    }
}
