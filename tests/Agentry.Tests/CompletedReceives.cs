using MassTransit;

namespace Agentry.Tests;

/// Counts messages whose whole receive finished: consumer or saga, repository write, retries and
/// outbox delivery included. A test that published n messages waits for n completions instead of for
/// bus inactivity, which fires once and can fire early while a test reads an external store.
public sealed class CompletedReceives : IReceiveObserver
{
    private readonly Lock _gate = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiting = [];
    private int _completed;
    private int _faulted;

    public int Completed => Volatile.Read(ref _completed);

    /// Messages whose consumer still threw after every retry.
    public int Faulted => Volatile.Read(ref _faulted);

    public async Task WaitFor(int count, TimeSpan? timeout = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_completed >= count)
            {
                return;
            }

            _waiting.Add((count, reached));
        }

        try
        {
            await reached.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Only {Completed} of {count} messages finished their receive in time ({Faulted} faulted).");
        }
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context)
    {
        Complete();
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        Interlocked.Increment(ref _faulted);
        Complete();
        return Task.CompletedTask;
    }

    private void Complete()
    {
        lock (_gate)
        {
            _completed++;
            foreach (var waiting in _waiting.Where(w => w.Count <= _completed).ToList())
            {
                _waiting.Remove(waiting);
                waiting.Reached.TrySetResult();
            }
        }
    }
}
