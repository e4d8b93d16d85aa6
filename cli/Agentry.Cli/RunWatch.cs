using System.Collections.Concurrent;
using System.Threading.Channels;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Cli;

/// Lets a command follow one run's events as they happen.
public sealed class RunWatch
{
    private readonly ConcurrentDictionary<Guid, Channel<object>> _runs = new();

    public ChannelReader<object> Follow(Guid runId) => _runs.GetOrAdd(runId, _ => Channel.CreateUnbounded<object>()).Reader;

    public void Forget(Guid runId) => _runs.TryRemove(runId, out _);

    public void Post(Guid runId, object message)
    {
        if (_runs.TryGetValue(runId, out var channel))
        {
            channel.Writer.TryWrite(message);
        }
    }
}

public sealed class RunWatchConsumer(RunWatch watch) :
    IConsumer<StepPlanned>,
    IConsumer<ToolResult>,
    IConsumer<GoalEvaluated>,
    IConsumer<RunCompleted>,
    IConsumer<RunFailed>,
    IConsumer<RunEscalated>,
    IConsumer<RunCancelled>,
    IConsumer<ApprovalRequested>
{
    public Task Consume(ConsumeContext<ApprovalRequested> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<StepPlanned> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<ToolResult> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<GoalEvaluated> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<RunCompleted> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<RunFailed> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<RunEscalated> context) => Post(context.Message.RunId, context.Message);

    public Task Consume(ConsumeContext<RunCancelled> context) => Post(context.Message.RunId, context.Message);

    private Task Post(Guid runId, object message)
    {
        watch.Post(runId, message);
        return Task.CompletedTask;
    }
}
