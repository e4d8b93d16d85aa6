using System.IO.Enumeration;
using Microsoft.Extensions.Logging;

namespace Agentry.Tools;

/// What happens to a run's workspace when the run ends: the files the agent declared as outputs
/// (`sandbox: outputs:`) move to Tools:Files:Root/artifacts/RUNID on this host; the rest is deleted.
public sealed partial class RunArtifacts(RunWorkspace workspace, ILogger<RunArtifacts> logger)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} ended: its workspace was deleted, {Kept} output file(s) kept as artifacts.")]
    private static partial void LogEnded(ILogger logger, Guid runId, int kept);
}
