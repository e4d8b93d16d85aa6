using System.Globalization;
using System.IO.Enumeration;
using System.Security.Cryptography;
using Agentry.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// What happens to a run's workspace when the run ends: the files the agent declared as outputs
/// (`sandbox: outputs:`) move to Tools:Files:Root/artifacts/RUNID on this host, and the rest is
/// deleted; Collect then reads them, within the caps, into the message that takes them to Memory,
/// and Forget deletes this host's copy once the broker has it (docs/sandbox.md).
public sealed partial class RunArtifacts(RunWorkspace workspace, IOptionsMonitor<SandboxOptions> options, ILogger<RunArtifacts> logger)
{
    public string FolderOf(Guid runId) => Path.Combine(Path.GetFullPath(workspace.Settings.Root), "artifacts", runId.ToString("D"));

    /// The relative paths kept.
    public IReadOnlyList<string> EndRun(Guid runId, IReadOnlyList<string> outputs)
    {
        var folder = workspace.FolderOf(runId);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var kept = new List<string>();
        var all = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var file in Directory.EnumerateFiles(folder, "*", all))
        {
            var relative = Path.GetRelativePath(folder, file);
            // Only regular files: a link the code left could point anywhere on the host.
            if (new FileInfo(file).LinkTarget is null && outputs.Any(pattern => FileSystemName.MatchesSimpleExpression(pattern, relative, ignoreCase: false)))
            {
                var target = Path.Combine(FolderOf(runId), relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(file, target, overwrite: true);
                kept.Add(relative);
            }
        }

        Directory.Delete(folder, recursive: true);
        LogEnded(logger, runId, kept.Count);
        return kept;
    }

    /// The run's kept files on this host as the message to Memory, or null when none are kept here
    /// (no outputs, or sent and forgotten already: a redelivered run end). Files are taken in name
    /// order; one over MaxArtifactBytes, or that would take the total over MaxArtifactsBytes, is
    /// listed as left out with the reason, and beyond MaxArtifacts files only counted.
    public RunArtifactsKept? Collect(Guid runId, string tenantId)
    {
        var folder = FolderOf(runId);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var settings = options.CurrentValue;
        var names = Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        var files = new List<ArtifactFile>();
        long total = 0;
        foreach (var name in names.Take(settings.MaxArtifacts))
        {
            var path = Path.Combine(folder, name);
            var size = new FileInfo(path).Length;
            var leftOut = size > settings.MaxArtifactBytes
                ? $"{Describe(size)}, over the {Describe(settings.MaxArtifactBytes)} one artifact may have (Tools:Sandbox:MaxArtifactBytes)"
                : total + size > settings.MaxArtifactsBytes
                    ? $"{Describe(size)} more would take the run's artifacts over the {Describe(settings.MaxArtifactsBytes)} a run may keep (Tools:Sandbox:MaxArtifactsBytes)"
                    : null;
            if (leftOut is not null)
            {
                files.Add(new ArtifactFile(name, size, null, null, leftOut));
                continue;
            }

            // An empty "file" may be a FIFO or socket the code left (the move keeps them): it is never
            // opened, since reading a FIFO would wait for a writer forever. Anything with bytes is a
            // regular file; the sandbox cannot make devices.
            var content = size == 0 ? [] : File.ReadAllBytes(path);
            total += content.Length;
            files.Add(new ArtifactFile(name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), content));
        }

        var unlisted = Math.Max(0, names.Count - settings.MaxArtifacts);
        LogCollected(logger, runId, files.Count(f => f.LeftOut is null), total, files.Count(f => f.LeftOut is not null) + unlisted);
        return new RunArtifactsKept(runId, tenantId, files, unlisted);
    }

    /// Deletes this host's copy of the run's artifacts: Memory keeps them now.
    public void Forget(Guid runId)
    {
        var folder = FolderOf(runId);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// A size in words: bytes under a KiB, KiB to a tenth under a MiB, otherwise as the limits say it.
    public static string Describe(long bytes) =>
        bytes < 1L << 10 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes")
        : bytes < 1L << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB")
        : SandboxLimits.Size(bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} ended: its workspace was deleted, {Kept} output file(s) kept as artifacts.")]
    private static partial void LogEnded(ILogger logger, Guid runId, int kept);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: {Kept} artifact(s), {Bytes} bytes, go to Memory; {LeftOut} output file(s) left out by the caps.")]
    private static partial void LogCollected(ILogger logger, Guid runId, int kept, long bytes, int leftOut);
}
