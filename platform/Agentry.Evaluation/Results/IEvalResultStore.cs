namespace Agentry.Evaluation.Results;

/// Where eval runs are kept: the embedded SQLite file, or a deployment's MongoDB (Stores/). Eval runs
/// are the deployment's, as its agents and datasets are: no store keeps them per tenant.
public interface IEvalResultStore
{
    /// Where the runs are, in words for a message (never a password).
    string Location { get; }

    Task SaveAsync(EvalRunRecord run, CancellationToken cancellationToken);

    Task<EvalRunRecord?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// Newest first; only the given dataset's runs when one is named.
    Task<IReadOnlyList<EvalRunSummary>> ListAsync(string? dataset, int limit, CancellationToken cancellationToken);
}

/// A stored eval run in a list: what was run, and the totals a list shows, kept beside the record
/// so that a list reads no trial.
public sealed record EvalRunSummary(
    Guid Id,
    string Dataset,
    string DatasetVersion,
    string Agents,
    string Model,
    DateTimeOffset StartedAt,
    int Cases,
    int CasesPassed,
    decimal Cost,
    decimal JudgeCost,
    long Tokens,
    TimeSpan LatencyP50,
    TimeSpan LatencyP95)
{
    public double PassRate => Cases == 0 ? 0 : (double)CasesPassed / Cases;

    public static EvalRunSummary Of(EvalRunRecord run) => new(
        run.Id, run.Dataset, run.DatasetVersion, run.Agents, run.Model, run.StartedAt, run.Cases.Count, run.CasesPassed,
        run.Cost, run.JudgeCost, run.Tokens, run.LatencyP50, run.LatencyP95);
}
