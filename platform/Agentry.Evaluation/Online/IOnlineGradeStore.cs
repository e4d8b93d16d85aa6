namespace Agentry.Evaluation.Online;

/// Online grades per run, and each agent's scored runs in order, for its windows.
public interface IOnlineGradeStore
{
    /// Stores the run's grades once. A run stored before keeps what it had: the stored copy comes
    /// back, with IsNew false, so a redelivered message neither grades twice nor takes a second place.
    Task<(OnlineRunGrades Stored, bool IsNew)> RecordAsync(OnlineRunGrades grades, CancellationToken cancellationToken);

    Task<OnlineRunGrades?> GetAsync(Guid runId, CancellationToken cancellationToken);

    /// The agent's scored runs with Sequence from first to last, inclusive, in order.
    Task<IReadOnlyList<OnlineRunGrades>> ScoredAsync(string agent, long first, long last, CancellationToken cancellationToken);

    /// The agent's latest graded runs, newest first.
    Task<IReadOnlyList<OnlineRunGrades>> LatestAsync(string agent, int count, CancellationToken cancellationToken);
}
