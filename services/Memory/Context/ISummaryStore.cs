namespace Agentry.Memory;

/// A summary of a run's steps 1 to ThroughStep, written when they no longer fit the context
/// verbatim. Model: what wrote it (a model's name, or ExtractiveSummary.Writer when no model did).
public sealed record TranscriptSummary(Guid RunId, string TenantId, int ThroughStep, string Text, string Model, DateTimeOffset At);

/// The summaries of runs' older steps that context assembly writes (TranscriptSummarizer), per run.
public interface ISummaryStore
{
    /// Keeps a summary, keyed by run and ThroughStep; the first one saved for a key is kept (two
    /// deliveries of one request summarize the same steps once each, and the context stays stable).
    Task SaveSummaryAsync(TranscriptSummary summary, CancellationToken cancellationToken);

    /// The summary of the run that covers the most steps without going past throughStep, or null.
    Task<TranscriptSummary?> GetSummaryAsync(string tenantId, Guid runId, int throughStep, CancellationToken cancellationToken);
}
