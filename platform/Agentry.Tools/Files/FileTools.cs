using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// Where runs keep their files (Tools:Files). Each run has its own folder, Root/RUNID.
public sealed class FileToolOptions
{
    public const string Section = "Tools:Files";

    public string Root { get; set; } = Path.Combine(Path.GetTempPath(), "agentry-workspaces");

    public int MaxReadBytes { get; set; } = 256 * 1024;

    public int MaxWriteBytes { get; set; } = 1024 * 1024;
}

/// The workspace tools: each run reads and writes files in its own folder.
public static class FileTools
{
    public static ToolPack Pack { get; } = ToolPack.Of([ReadFileTool.Descriptor, WriteFileTool.Descriptor], (services, _) =>
    {
        services.AddOptions<FileToolOptions>().BindConfiguration(FileToolOptions.Section);
        services.AddSingleton<RunWorkspace>();
        services.AddSingleton<RunArtifacts>();
        services.AddSingleton<ITool, ReadFileTool>();
        services.AddSingleton<ITool, WriteFileTool>();
    });
}

/// The run's workspace and the one check every file path goes through: relative, no climbing out
/// with `..`, and no symbolic link on the way that leads outside.
public sealed class RunWorkspace(IOptionsMonitor<FileToolOptions> options)
{
    public FileToolOptions Settings => options.CurrentValue;

    /// The run's folder on this host (it may not exist yet).
    public string FolderOf(Guid runId) => Path.GetFullPath(Path.Combine(Settings.Root, runId.ToString("D")));

    public string Resolve(Guid runId, string path)
    {
        var root = FolderOf(runId);
        if (Path.IsPathRooted(path) || path.Contains(':', StringComparison.Ordinal) || path.StartsWith('~'))
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, $"'{path}' is not a relative path: give a path inside the run's workspace, such as notes/summary.txt.");
        }

        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, $"'{path}' leads outside the run's workspace.");
        }

        // Each existing step of the way, from the workspace down: a link is followed to its end.
        var current = root;
        foreach (var part in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, part);
            // LinkTarget also sees a dangling link, which a write would otherwise create outside.
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
                if (target is null || !(target + Path.DirectorySeparatorChar).StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new ToolException(ToolErrorKind.PermissionDenied, $"'{path}' goes through a symbolic link that leads outside the run's workspace.");
                }
            }
        }

        return full;
    }
}

public sealed class ReadFileTool(RunWorkspace workspace) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("read_file", "Reads a text file from this run's workspace, by a path relative to the workspace.", ToolSchema.ClosedObject("""
        "path": { "type": "string", "minLength": 1, "maxLength": 500, "description": "A relative path inside the workspace, for example notes/summary.txt." }
        """, "path"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var path = arguments.GetProperty("path").GetString()!;
        var full = workspace.Resolve(invocation.RunId, path);
        if (!File.Exists(full))
        {
            throw new ToolException(ToolErrorKind.Failed, $"There is no file '{path}' in the run's workspace.");
        }

        var max = workspace.Settings.MaxReadBytes;
        await using var stream = File.OpenRead(full);
        var (text, truncated) = await CappedText.ReadAsync(stream, max, cancellationToken);
        return truncated ? $"{text}{Environment.NewLine}[truncated at {max} bytes of {stream.Length}]" : text;
    }
}

/// Has side effects: the file stays for the rest of the run (later calls and run_python see it), so
/// an interrupted write is not repeated blindly. When the run ends the workspace is deleted, except
/// the files the agent declared as outputs, which go to Memory as the run's artifacts (RunArtifacts).
public sealed class WriteFileTool(RunWorkspace workspace) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("write_file", "Writes (creates or replaces) a text file in this run's workspace, by a path relative to the workspace.", ToolSchema.ClosedObject("""
        "path": { "type": "string", "minLength": 1, "maxLength": 500, "description": "A relative path inside the workspace, for example notes/summary.txt." },
        "content": { "type": "string", "description": "The whole text of the file." }
        """, "path", "content"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var path = arguments.GetProperty("path").GetString()!;
        var bytes = Encoding.UTF8.GetBytes(arguments.GetProperty("content").GetString()!);
        var max = workspace.Settings.MaxWriteBytes;
        if (bytes.Length > max)
        {
            throw new ToolException(ToolErrorKind.InvalidArguments, $"The content is {bytes.Length} bytes; a file may hold at most {max} (Tools:Files:MaxWriteBytes).");
        }

        var full = workspace.Resolve(invocation.RunId, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllBytesAsync(full, bytes, cancellationToken);
        return $"Wrote {bytes.Length} bytes to {path}.";
    }
}
