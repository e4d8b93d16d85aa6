namespace Agentry.Planner.Deadlines;

/// A run has at most one deadline of each kind: its wall-clock deadline, and while calls wait for a
/// person, the approval timeout.
public enum DeadlineKind
{
    Run,
    Approval,
}

/// A run's deadline. TraceParent is the W3C trace context the deadline was set in (the run's
/// trace), so that the poller, which has no message to continue from, can publish into it.
public sealed record RunDeadline(Guid RunId, string TenantId, DateTimeOffset Deadline, string? TraceParent = null, DeadlineKind Kind = DeadlineKind.Run);

/// Deadlines of active runs, kept apart from the saga so that a poller can find the due ones
/// without a scheduler. The in-memory store serves the embedded mode; a durable one (Redis)
/// replaces it in distributed mode so deadlines survive a Planner restart.
public interface IRunDeadlines
{
    /// Sets the run's deadline of the deadline's kind, replacing any earlier one of that kind.
    Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken);

    /// Removes the run's deadline of one kind.
    Task RemoveAsync(Guid runId, DeadlineKind kind, CancellationToken cancellationToken);

    /// Removes and returns the deadlines at or before `now`: each is handed out once.
    Task<IReadOnlyList<RunDeadline>> TakeDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);
}

public static class RunDeadlinesExtensions
{
    /// Removes every deadline of a run that ended.
    public static async Task RemoveAsync(this IRunDeadlines deadlines, Guid runId, CancellationToken cancellationToken)
    {
        foreach (var kind in Enum.GetValues<DeadlineKind>())
        {
            await deadlines.RemoveAsync(runId, kind, cancellationToken);
        }
    }
}

public sealed class InMemoryRunDeadlines : IRunDeadlines
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(Guid RunId, DeadlineKind Kind), RunDeadline> _byRun = [];
    private readonly SortedSet<(DateTimeOffset Deadline, Guid RunId, DeadlineKind Kind)> _byTime = [];

    public Task SetAsync(RunDeadline deadline, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RemoveLocked(deadline.RunId, deadline.Kind);
            _byRun[(deadline.RunId, deadline.Kind)] = deadline;
            _byTime.Add((deadline.Deadline, deadline.RunId, deadline.Kind));
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(Guid runId, DeadlineKind kind, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RemoveLocked(runId, kind);
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
                var first = _byTime.Min;
                due.Add(_byRun[(first.RunId, first.Kind)]);
                RemoveLocked(first.RunId, first.Kind);
            }
        }

        return Task.FromResult<IReadOnlyList<RunDeadline>>(due);
    }

    private void RemoveLocked(Guid runId, DeadlineKind kind)
    {
        if (_byRun.Remove((runId, kind), out var existing))
        {
            _byTime.Remove((existing.Deadline, runId, kind));
        }
    }
}
