using Agentry.Evaluation.Results;

namespace Agentry.Evaluation.Reports;

/// The eval runs a report charts: those of the same dataset (by name, whichever agents and models
/// ran it, since a report is where a change of agent shows) that started no later than the run,
/// the newest MaxRuns of them, oldest first.
public static class ReportHistory
{
    public const int MaxRuns = 30;

    // The store lists newest first; runs newer than the reported one are skipped, so a few more are read.
    private const int RunsListed = 500;

    public static async Task<IReadOnlyList<EvalRunRecord>> LoadAsync(IEvalResultStore store, EvalRunRecord run, CancellationToken cancellationToken)
    {
        var earlier = (await store.ListAsync(run.Dataset, RunsListed, cancellationToken))
            .Where(s => s.Id != run.Id && s.StartedAt <= run.StartedAt)
            .Take(MaxRuns - 1);
        var history = new List<EvalRunRecord> { run };
        foreach (var summary in earlier)
        {
            if (await store.GetAsync(summary.Id, cancellationToken) is { } record)
            {
                history.Add(record);
            }
        }

        return [.. history.OrderBy(r => r.StartedAt)];
    }
}
