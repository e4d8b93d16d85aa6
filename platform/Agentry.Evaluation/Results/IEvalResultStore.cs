namespace Agentry.Evaluation.Results;

/// Where eval runs are kept: the embedded SQLite file (Stores/Sqlite); a MongoDB store for
/// deployments is to follow, against the same contract.
public interface IEvalResultStore
{
    Task SaveAsync(EvalRunRecord run, CancellationToken cancellationToken);

    Task<EvalRunRecord?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// Newest first; only the given dataset's runs when one is named.
    Task<IReadOnlyList<EvalRunSummary>> ListAsync(string? dataset, int limit, CancellationToken cancellationToken);
}

/// A stored eval run in a list.
public sealed record EvalRunSummary(
    Guid Id,
    string Dataset,
    string DatasetVersion,
    string Agents,
    string Model,
    DateTimeOffset StartedAt,
    int Cases,
    int CasesPassed);
