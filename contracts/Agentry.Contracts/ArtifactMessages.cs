namespace Agentry.Contracts;

/// <summary>The files an ended run's agent declared as outputs (`sandbox: outputs:`), sent by the
/// ToolExecutor to Memory, which keeps them as the run's artifacts. Sent once per run end; a
/// redelivered copy is kept once (the first copy stands). Size-capped by the sender
/// (Tools:Sandbox:MaxArtifactBytes, MaxArtifactsBytes, MaxArtifacts) so that it stays well under the
/// broker's message size limit (docs/sandbox.md).</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The run's tenant: only its callers see the artifacts.</param>
/// <param name="Files">Each matching file in name order, kept (with its content) or left out (with the reason).</param>
/// <param name="Unlisted">How many further matching files were left out without being listed, beyond the most a run may list.</param>
public sealed record RunArtifactsKept(Guid RunId, string TenantId, IReadOnlyList<ArtifactFile> Files, int Unlisted = 0);

/// <summary>One output file of a run.</summary>
/// <param name="Name">Its path relative to the run's workspace, with '/' between folders: report.md, results/a.csv.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">The SHA-256 of its content, lower-case hex; null when it was left out (not read).</param>
/// <param name="Content">Its bytes (base64 in JSON); null when it was left out.</param>
/// <param name="LeftOut">Why it was not kept, in words; null when it was kept.</param>
public sealed record ArtifactFile(string Name, long Size, string? Sha256, byte[]? Content = null, string? LeftOut = null);

/// <summary>Ask Memory for the list of a run's artifacts (request/response).</summary>
/// <param name="TenantId">The caller's tenant: another tenant's artifacts are never listed, even for the same run id.</param>
/// <param name="RunId">The run.</param>
public sealed record GetArtifacts(string TenantId, Guid RunId);

/// <summary>Memory's answer to GetArtifacts.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Artifacts">Each file in name order, kept or left out; empty when none were kept (or not yet: they arrive shortly after the run ends).</param>
/// <param name="Unlisted">How many further matching files were left out without being listed.</param>
public sealed record ArtifactList(Guid RunId, IReadOnlyList<ArtifactInfo> Artifacts, int Unlisted = 0);

/// <summary>One artifact of a run, without its content.</summary>
/// <param name="Name">Its path relative to the run's workspace.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">The SHA-256 of its content, lower-case hex; null when it was left out.</param>
/// <param name="LeftOut">Why it was not kept; null when it was.</param>
public sealed record ArtifactInfo(string Name, long Size, string? Sha256, string? LeftOut = null);

/// <summary>Ask Memory for one artifact's content (request/response).</summary>
/// <param name="TenantId">The caller's tenant.</param>
/// <param name="RunId">The run.</param>
/// <param name="Name">The artifact's name, as GetArtifacts lists it.</param>
public sealed record GetArtifact(string TenantId, Guid RunId, string Name);

/// <summary>Memory's answer to GetArtifact.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Name">The name asked for.</param>
/// <param name="Found">False when the tenant's run has no artifact of that name.</param>
/// <param name="Info">The artifact, when found (left out ones too: their reason is in it).</param>
/// <param name="Content">Its bytes (base64 in JSON), when found and kept.</param>
public sealed record ArtifactContent(Guid RunId, string Name, bool Found, ArtifactInfo? Info = null, byte[]? Content = null);
