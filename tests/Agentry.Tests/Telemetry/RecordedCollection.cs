namespace Agentry.Tests.Telemetry;

/// What an in-memory exporter records, safe to read while the exporter adds to it, and a way to
/// wait for a condition on it that is checked again on every addition.
public sealed class RecordedCollection<T> : ICollection<T>
{
    private readonly List<T> _items = [];
    private readonly List<(Func<IReadOnlyList<T>, bool> Condition, TaskCompletionSource Met)> _waits = [];
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public IReadOnlyList<T> Snapshot()
    {
        lock (_gate)
        {
            return [.. _items];
        }
    }

    public async Task<IReadOnlyList<T>> WaitUntilAsync(Func<IReadOnlyList<T>, bool> condition, TimeSpan timeout, Func<IReadOnlyList<T>, string> failure)
    {
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_items))
            {
                return [.. _items];
            }

            _waits.Add((condition, met));
        }

        try
        {
            await met.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail(failure(Snapshot()));
        }

        return Snapshot();
    }

    public void Add(T item)
    {
        lock (_gate)
        {
            _items.Add(item);
            foreach (var wait in _waits.Where(w => w.Condition(_items)).ToList())
            {
                _waits.Remove(wait);
                wait.Met.TrySetResult();
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _items.Clear();
        }
    }

    public bool Contains(T item) => Snapshot().Contains(item);

    public void CopyTo(T[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

    public bool Remove(T item)
    {
        lock (_gate)
        {
            return _items.Remove(item);
        }
    }

    public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
