using System.Globalization;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.CodeReview;

/// Opens the agent's fix as a pull request of its own: the patched files (from the run's checkout,
/// or a unified diff) committed on fix/pr-N in the forge's repository, a pull request from that
/// branch into the reviewed one, and a review on the reviewed pull request with the explanation and
/// inline comments. A call delivered again (same run and call id) opens nothing twice.
public sealed class OpenFixTool(CodeForge forge, RunWorkspace workspace, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("forge_open_fix", "Opens a fix for a pull request: commits the changed files on the branch fix/pr-NUMBER, opens a pull request from it into the reviewed branch, and leaves a review on the reviewed pull request with your explanation and inline comments. Give the changes either as files (paths inside the checkout pr-NUMBER/ that you changed there) or as a unified diff (patch, paths relative to the repository). Open it only once the tests pass.", ToolSchema.ClosedObject("""
        "number": { "type": "integer", "minimum": 1, "description": "The reviewed pull request's number." },
        "explanation": { "type": "string", "minLength": 1, "maxLength": 5000, "description": "The review: what was wrong, how it was found (analyser, tests) and what the fix changes." },
        "files": { "type": "array", "minItems": 1, "maxItems": 50, "items": { "type": "string", "minLength": 1, "maxLength": 300 }, "description": "Changed files, relative to the checkout, for example pricing.py." },
        "patch": { "type": "string", "minLength": 1, "maxLength": 200000, "description": "A unified diff (git diff) against the pull request's head." },
        "comments": { "type": "array", "maxItems": 30, "items": { "type": "object", "properties": {
            "path": { "type": "string", "minLength": 1, "maxLength": 300 },
            "line": { "type": "integer", "minimum": 1 },
            "body": { "type": "string", "minLength": 1, "maxLength": 2000 } }, "required": ["path", "line", "body"], "additionalProperties": false },
          "description": "Inline comments on lines of the pull request's head." }
        """, "number", "explanation"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var pr = await forge.PullRequestAsync(arguments.GetProperty("number").GetInt32(), cancellationToken);
        var explanation = arguments.GetProperty("explanation").GetString()!;
        var comments = arguments.TryGetProperty("comments", out var c)
            ? c.EnumerateArray().Select(x => new InlineComment(x.GetProperty("path").GetString()!, x.GetProperty("line").GetInt32(), x.GetProperty("body").GetString()!)).ToList()
            : [];
        var hasFiles = arguments.TryGetProperty("files", out var files);
        if (hasFiles == arguments.TryGetProperty("patch", out var patch))
        {
            throw new ToolException(ToolErrorKind.InvalidArguments, "Give the changes either as files (changed in the checkout) or as a patch, not both and not neither.", causedByCaller: true);
        }

        if (await EarlierAsync(invocation, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        var branch = $"fix/pr-{pr.Number}";
        var clone = Path.Combine(Path.GetTempPath(), $"agentry-forge-fix-{Guid.NewGuid():N}");
        try
        {
            await Git.RunAsync(Path.GetTempPath(), ["clone", "--quiet", forge.RepositoryPath, clone], cancellationToken);
            var branchExists = (await Git.TryAsync(clone, ["rev-parse", "--verify", "--quiet", $"refs/remotes/origin/{branch}"], cancellationToken)).ExitCode == 0;
            await Git.RunAsync(clone, ["checkout", "--quiet", "-B", branch, $"origin/{(branchExists ? branch : pr.Head)}"], cancellationToken);
            var reviewed = (await Git.RunAsync(clone, ["rev-parse", $"origin/{pr.Head}"], cancellationToken)).Trim();

            if (hasFiles)
            {
                CopyChangedFiles(pr.Number, files.EnumerateArray().Select(f => f.GetString()!), clone, invocation);
            }
            else
            {
                await ApplyAsync(patch.GetString()!, clone, branchExists ? $"{branch}, which holds an earlier fix" : $"pull request #{pr.Number}'s head", cancellationToken);
            }

            await Git.RunAsync(clone, ["add", "--all"], cancellationToken);
            var changed = (await Git.TryAsync(clone, ["diff", "--cached", "--quiet"], cancellationToken)).ExitCode != 0;
            if (!changed && !branchExists)
            {
                throw new ToolException(ToolErrorKind.Failed, $"The files are the same as pull request #{pr.Number}'s head: there is no fix to open. Change them in {CheckoutTool.FolderOf(pr.Number)}/ first.", causedByCaller: true);
            }

            await CheckCommentsAsync(comments, reviewed, clone, cancellationToken);
            if (changed)
            {
                var summary = explanation.Split('\n')[0];
                await Git.RunAsync(clone, [.. Git.As($"Agentry ({invocation.Agent})", $"{invocation.Agent}@agents.agentry.local"), "commit", "--quiet",
                    "-m", $"Fix #{pr.Number}: {(summary.Length > 60 ? summary[..60] + "..." : summary)}", "-m", explanation, "-m", $"Agentry-Run: {invocation.RunId}"], cancellationToken);
                await Git.RunAsync(clone, ["push", "--quiet", "origin", branch], cancellationToken);
            }

            var commit = (await Git.RunAsync(clone, ["rev-parse", "HEAD"], cancellationToken)).Trim();
            return await RecordAsync(pr, branch, commit, explanation, comments, invocation, cancellationToken);
        }
        finally
        {
            if (Directory.Exists(clone))
            {
                Directory.Delete(clone, recursive: true);
            }
        }
    }

    private sealed record InlineComment(string Path, int Line, string Body);

    private void CopyChangedFiles(int number, IEnumerable<string> paths, string clone, ToolInvocation invocation)
    {
        foreach (var path in paths)
        {
            var source = workspace.Resolve(invocation.RunId, $"{CheckoutTool.FolderOf(number)}/{path}");
            var target = Path.GetFullPath(Path.Combine(clone, path));
            if (!target.StartsWith(clone + Path.DirectorySeparatorChar, StringComparison.Ordinal) || path.Split('/', '\\').Contains(".git"))
            {
                throw new ToolException(ToolErrorKind.PermissionDenied, $"'{path}' is not a file of the repository.", causedByCaller: true);
            }

            if (File.Exists(source))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target, overwrite: true);
            }
            else if (File.Exists(target) && Directory.Exists(workspace.Resolve(invocation.RunId, CheckoutTool.FolderOf(number))))
            {
                File.Delete(target);
            }
            else
            {
                throw new ToolException(ToolErrorKind.Failed, $"There is no {path} in {CheckoutTool.FolderOf(number)}/ of the workspace: check the pull request out with forge_checkout and change it there.", causedByCaller: true);
            }
        }
    }

    private static async Task ApplyAsync(string patch, string clone, string onto, CancellationToken cancellationToken)
    {
        var file = Path.Combine(clone, ".git", "agentry-fix.patch");
        await File.WriteAllTextAsync(file, patch.EndsWith('\n') ? patch : patch + "\n", cancellationToken);
        var (exit, _, stderr) = await Git.TryAsync(clone, ["apply", "--whitespace=nowarn", file], cancellationToken);
        if (exit != 0)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The patch does not apply to {onto}: {stderr.Trim()}", causedByCaller: true);
        }
    }

    /// Inline comments are on lines of the reviewed head, as on a hosted forge's "Files changed".
    private static async Task CheckCommentsAsync(IReadOnlyList<InlineComment> comments, string reviewed, string clone, CancellationToken cancellationToken)
    {
        foreach (var comment in comments)
        {
            var (exit, text, _) = await Git.TryAsync(clone, ["show", $"{reviewed}:{comment.Path}"], cancellationToken);
            var lines = exit == 0 ? text.TrimEnd('\n').Split('\n').Length : 0;
            if (exit != 0 || comment.Line > lines)
            {
                throw new ToolException(ToolErrorKind.InvalidArguments,
                    exit != 0 ? $"The inline comment on {comment.Path} is on no file of the pull request's head." : $"The inline comment on {comment.Path}:{comment.Line} is past its last line ({lines}).", causedByCaller: true);
            }
        }
    }

    private async Task<string?> EarlierAsync(ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await forge.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT r.pull_request, r.fix_pull_request, r.fix_branch, r.fix_commit, (SELECT count(*) FROM review_comments WHERE review_id = r.id) FROM reviews r WHERE run_id = $run AND call_id = $call";
        command.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        command.Parameters.AddWithValue("$call", invocation.CallId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Opened(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4)) : null;
    }

    private async Task<string> RecordAsync(PullRequest pr, string branch, string commit, string explanation, IReadOnlyList<InlineComment> comments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        await using var connection = await forge.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = """
            INSERT OR IGNORE INTO pull_requests (title, author, description, base, head, state, created_at) VALUES ($title, $agent, $body, $base, $branch, 'open', $at);
            INSERT INTO reviews (pull_request, author, body, fix_pull_request, fix_branch, fix_commit, run_id, call_id, created_at)
              VALUES ($pr, $agent, $body, (SELECT number FROM pull_requests WHERE head = $branch), $branch, $commit, $run, $call, $at);
            SELECT last_insert_rowid(), (SELECT number FROM pull_requests WHERE head = $branch);
            """;
        write.Parameters.AddWithValue("$title", $"Fix for #{pr.Number}: {pr.Title}");
        write.Parameters.AddWithValue("$agent", invocation.Agent);
        write.Parameters.AddWithValue("$body", explanation);
        write.Parameters.AddWithValue("$base", pr.Head);
        write.Parameters.AddWithValue("$branch", branch);
        write.Parameters.AddWithValue("$at", at);
        write.Parameters.AddWithValue("$pr", pr.Number);
        write.Parameters.AddWithValue("$commit", commit);
        write.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        write.Parameters.AddWithValue("$call", invocation.CallId);
        long review, fixPr;
        await using (var reader = await write.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (review, fixPr) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        foreach (var comment in comments)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO review_comments (review_id, path, line, body) VALUES ($review, $path, $line, $body)";
            insert.Parameters.AddWithValue("$review", review);
            insert.Parameters.AddWithValue("$path", comment.Path);
            insert.Parameters.AddWithValue("$line", comment.Line);
            insert.Parameters.AddWithValue("$body", comment.Body);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return Opened(pr.Number, (int)fixPr, branch, commit, comments.Count);
    }

    private static string Opened(int reviewed, int fixPr, string branch, string commit, int comments) =>
        $"Opened pull request #{fixPr} from {branch} (commit {commit[..7]}) and left a review on pull request #{reviewed} with {comments} inline comment(s).";
}
