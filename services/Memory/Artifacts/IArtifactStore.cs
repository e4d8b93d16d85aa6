using Agentry.Contracts;

namespace Agentry.Memory;

/// The runs' artifacts: the output files the ToolExecutor sends when a run ends (RunArtifactsKept),
/// kept per run and tenant, in the run's store, for as long as the run's transcript.
public interface IArtifactStore
{
    /// Keeps a run's artifacts. A run whose artifacts are kept already (a redelivered message) is left
    /// as it was: the first copy stands.
    Task KeepAsync(RunArtifactsKept artifacts, CancellationToken cancellationToken);

    /// The tenant's run's artifacts in name order, kept and left out, without their content; an empty
    /// list for a run with none or another tenant's run.
    Task<ArtifactList> ListAsync(string tenantId, Guid runId, CancellationToken cancellationToken);

    /// One artifact with its content (null for one left out), or null when the tenant's run has none of that name.
    Task<(ArtifactInfo Info, byte[]? Content)?> GetAsync(string tenantId, Guid runId, string name, CancellationToken cancellationToken);
}
