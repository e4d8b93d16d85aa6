namespace Agentry.ServiceDefaults.Versions;

/// A message or a run's stored state is of a schema version this build does not read. Retrying
/// cannot help (the endpoint's retry ignores it): the message goes to the error queue at once, and
/// the PoisonMessageReporter ends the run with this message as its reason.
public sealed class UnreadableVersionException(string what, Guid? runId, int found, IReadOnlyList<int> reads, bool isRunState) :
    Exception($"{what} is schema version {found}, which this build does not read (it reads {Describe(reads)}): " +
        (found > reads.Max()
            ? "it was written by a newer build. Deploy a build that reads it to every process first, then move the message back from the error queue."
            : "no upgrade from that version is kept any more."))
{
    public Guid? RunId { get; } = runId;

    public int Found { get; } = found;

    public IReadOnlyList<int> Reads { get; } = reads;

    /// The run's own state cannot be read, so the run cannot be told through its saga: it is ended
    /// by publishing RunFailed directly (PoisonMessageReporter).
    public bool IsRunState { get; } = isRunState;

    private static string Describe(IReadOnlyList<int> versions) =>
        versions.Count == 1 ? $"version {versions[0]}" : $"versions {string.Join(", ", versions.Order())}";
}
