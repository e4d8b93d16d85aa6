namespace Agentry.Planner.Deadlines;

/// A run's deadline. TraceParent is the W3C trace context the deadline was set in (the run's
/// trace), so that the poller, which has no message to continue from, can publish into it.
public sealed record RunDeadline(Guid RunId, string TenantId, DateTimeOffset Deadline, string? TraceParent = null);

/// Deadlines of active runs, kept apart from the saga so that a poller can find the due ones
/// without a scheduler. The in-memory store serves the embedded mode; a durable one (Redis)
/// replaces it in distributed mode so deadlines survive a Planner restart.
public interface IRunDeadlines
{
    Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken);

    Task RemoveAsync(Guid runId, CancellationToken cancellationToken);

    /// Removes and returns the deadlines at or before `now`: each is handed out once.
    Task<IReadOnlyList<RunDeadline>> TakeDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);
}

public sealed class InMemoryRunDeadlines : IRunDeadlines
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, RunDeadline> _byRun = [];
    private readonly SortedSet<(DateTimeOffset Deadline, Guid RunId)> _byTime = [];

    public Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RemoveLocked(deadline.RunId);
            _byRun[deadline.RunId] = deadline;
            _byTime.Add((deadline.Deadline, deadline.RunId));
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(Guid runId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RemoveLocked(runId);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RunDeadline>> TakeDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var due = new List<RunDeadline>();
        lock (_gate)
        {
            while (due.Count < max && _byTime.Count > 0 && _byTime.Min.Deadline <= now)
            {
                due.Add(_byRun[_byTime.Min.RunId]);
                RemoveLocked(_byTime.Min.RunId);
            }
        }

        return Task.FromResult<IReadOnlyList<RunDeadline>>(due);
    }

    private void RemoveLocked(Guid runId)
    {
        if (_byRun.Remove(runId, out var existing))
        {
            _byTime.Remove((existing.Deadline, runId));
        }
    }
}
