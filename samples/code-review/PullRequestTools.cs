using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Samples.CodeReview;

/// A pull request as a reviewer first sees it: what it is for, the diff, and the whole of each file
/// it touches (a diff's context alone hides the rest of a function).
public sealed class PullRequestTool(CodeForge forge) : ITool
{
    private const int MaxFileChars = 20_000;
    private const int MaxDiffChars = 40_000;

    public static readonly ToolDescriptor Descriptor = new("forge_pull_request", "Reads a pull request of the forge: its title, author, description, base and head branches, the unified diff against the base, and the full text of every file it changes.", ToolSchema.ClosedObject("""
        "number": { "type": "integer", "minimum": 1, "description": "The pull request's number, for example 1." }
        """, "number"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var pr = await forge.PullRequestAsync(arguments.GetProperty("number").GetInt32(), cancellationToken);
        var range = $"{pr.Base}...{pr.Head}";
        var head = (await forge.GitAsync(cancellationToken, "rev-parse", pr.Head)).Trim();
        var files = new List<object>();
        foreach (var line in (await forge.GitAsync(cancellationToken, "diff", "--name-status", "--no-renames", range)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (status, path) = (line[..1], line[(line.IndexOf('\t', StringComparison.Ordinal) + 1)..]);
            var content = status == "D" ? null : Cut(await forge.GitAsync(cancellationToken, "show", $"{head}:{path}"), MaxFileChars);
            files.Add(new { path, status = status switch { "A" => "added", "D" => "deleted", _ => "modified" }, content });
        }

        return JsonSerializer.Serialize(new
        {
            repository = SampleProject.Repository,
            number = pr.Number,
            title = pr.Title,
            author = pr.Author,
            description = pr.Description,
            state = pr.State,
            @base = pr.Base,
            head = pr.Head,
            head_commit = head,
            files,
            diff = Cut(await forge.GitAsync(cancellationToken, "diff", range), MaxDiffChars),
        });
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : $"{text[..max]}\n[cut at {max} of {text.Length} characters]";
}

/// A working copy of the pull request's head in the run's workspace, where run_shell runs the
/// analyser and the tests in the sandbox, and write_file patches it.
public sealed class CheckoutTool(CodeForge forge, RunWorkspace workspace) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("forge_checkout", "Checks a pull request's head out into the run's workspace, in the folder pr-NUMBER (a git clone: the base branch is origin/BASE). Checking out again starts over from the pull request, dropping changes made there.", ToolSchema.ClosedObject("""
        "number": { "type": "integer", "minimum": 1, "description": "The pull request's number, for example 1." }
        """, "number"), SideEffects: true);

    public string Name => Descriptor.Name;

    public static string FolderOf(int number) => $"pr-{number}";

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var pr = await forge.PullRequestAsync(arguments.GetProperty("number").GetInt32(), cancellationToken);
        var folder = workspace.Resolve(invocation.RunId, FolderOf(pr.Number));
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        var parent = Path.GetDirectoryName(folder)!;
        await Git.RunAsync(parent, ["clone", "--quiet", "--branch", pr.Head, forge.RepositoryPath, folder], cancellationToken);
        var head = (await Git.RunAsync(folder, ["rev-parse", "--short", "HEAD"], cancellationToken)).Trim();
        var files = (await Git.RunAsync(folder, ["ls-files"], cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return $"Checked out pull request #{pr.Number} ({pr.Head} at {head}, base origin/{pr.Base}) into {FolderOf(pr.Number)}/ in the workspace: {string.Join(", ", files)}.";
    }
}
