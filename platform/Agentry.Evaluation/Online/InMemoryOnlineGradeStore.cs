namespace Agentry.Evaluation.Online;

/// Online grades for one process (the embedded runtime without a SQLite file, tests).
public sealed class InMemoryOnlineGradeStore : IOnlineGradeStore
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, OnlineRunGrades> _runs = [];
    private readonly List<OnlineRunGrades> _inOrder = [];

    public Task<(OnlineRunGrades Stored, bool IsNew)> RecordAsync(OnlineRunGrades grades, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_runs.TryGetValue(grades.RunId, out var stored))
            {
                return Task.FromResult((stored, false));
            }

            var sequence = grades.Score is null ? 0 : _inOrder.Count(r => r.Agent == grades.Agent && r.Sequence > 0) + 1;
            stored = grades with { Sequence = sequence };
            _runs[grades.RunId] = stored;
            _inOrder.Add(stored);
            return Task.FromResult((stored, true));
        }
    }

    public Task<OnlineRunGrades?> GetAsync(Guid runId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.GetValueOrDefault(runId));
        }
    }

    public Task<IReadOnlyList<OnlineRunGrades>> ScoredAsync(string agent, long first, long last, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<OnlineRunGrades> scored = _inOrder.Where(r => r.Agent == agent && r.Sequence >= first && r.Sequence <= last && r.Sequence > 0).OrderBy(r => r.Sequence).ToList();
            return Task.FromResult(scored);
        }
    }

    public Task<IReadOnlyList<OnlineRunGrades>> LatestAsync(string agent, int count, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<OnlineRunGrades> latest = _inOrder.Where(r => r.Agent == agent).Reverse().Take(count).ToList();
            return Task.FromResult(latest);
        }
    }
}
