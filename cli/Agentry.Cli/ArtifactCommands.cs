using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Cli;

/// `agentry artifacts RUN_ID [NAME] [--out DIR]`: a run's artifacts (the output files its agent
/// declared) through a deployment's Gateway. Without a name and --out it lists them; with a name it
/// saves that one, with --out alone every kept one, under DIR by their names.
public static class ArtifactCommands
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(GatewayTarget gateway, string runId, string? name, string? outFolder, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (await RunCommands.RunIdAsync(runId, error) is not { } id)
        {
            return ExitCodes.BadInput;
        }

        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        try
        {
            if (name is not null)
            {
                return await SaveAsync(http, id, name, outFolder ?? ".", output, error, cancellationToken);
            }

            using var response = await http.GetAsync($"runs/{id}/artifacts", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
                return response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.BadInput : ExitCodes.NotCompleted;
            }

            var list = (await response.Content.ReadFromJsonAsync<ArtifactList>(Web, cancellationToken))!;
            if (outFolder is not null)
            {
                var exit = ExitCodes.Completed;
                foreach (var artifact in list.Artifacts.Where(a => a.LeftOut is null))
                {
                    exit = Math.Max(exit, await SaveAsync(http, id, artifact.Name, outFolder, output, error, cancellationToken));
                }

                await WriteLeftOutAsync(list, error);
                return exit;
            }

            if (list.Artifacts.Count == 0 && list.Unlisted == 0)
            {
                await output.WriteLineAsync($"Run {id} has no artifacts (yet: they arrive shortly after the run ends, when its agent declares sandbox outputs).");
                return ExitCodes.Completed;
            }

            var width = list.Artifacts.Max(a => a.Name.Length);
            foreach (var artifact in list.Artifacts)
            {
                await output.WriteLineAsync($"{artifact.Name.PadRight(width)}  {RunArtifacts.Describe(artifact.Size),10}  "
                    + (artifact.LeftOut is { } reason ? $"left out: {reason}" : $"sha256 {artifact.Sha256}"));
            }

            await WriteLeftOutAsync(list with { Artifacts = [] }, output);
            return ExitCodes.Completed;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync(ApprovalCommands.Unreachable(gateway, e));
            return ExitCodes.NotCompleted;
        }
    }

    private static async Task WriteLeftOutAsync(ArtifactList list, TextWriter writer)
    {
        foreach (var artifact in list.Artifacts.Where(a => a.LeftOut is not null))
        {
            await writer.WriteLineAsync($"{artifact.Name} was not kept: {artifact.LeftOut}.");
        }

        if (list.Unlisted > 0)
        {
            await writer.WriteLineAsync($"{list.Unlisted} more output file(s) were left out without being listed (Tools:Sandbox:MaxArtifacts).");
        }
    }

    private static async Task<int> SaveAsync(HttpClient http, Guid runId, string name, string outFolder, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // The name comes from the Gateway: it must stay inside the folder it is saved to.
        var root = Path.GetFullPath(outFolder);
        var target = Path.GetFullPath(Path.Combine(root, name));
        if (Path.IsPathRooted(name) || !target.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            await error.WriteLineAsync($"'{name}' is not a relative path inside {root}; it was not saved.");
            return ExitCodes.BadInput;
        }

        var path = string.Join('/', name.Split('/').Select(Uri.EscapeDataString));
        using var response = await http.GetAsync($"runs/{runId}/artifacts/{path}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            await error.WriteLineAsync(await ApprovalCommands.ProblemAsync(response, cancellationToken));
            return response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.BadInput : ExitCodes.NotCompleted;
        }

        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        if (response.Headers.TryGetValues("X-Artifact-Sha256", out var expected) && expected.FirstOrDefault() is { } recorded && recorded != sha256)
        {
            await error.WriteLineAsync($"'{name}' arrived with SHA-256 {sha256}, not the {recorded} recorded when the run ended; it was not saved. Try again.");
            return ExitCodes.NotCompleted;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await File.WriteAllBytesAsync(target, content, cancellationToken);
        await output.WriteLineAsync($"Saved {name} ({RunArtifacts.Describe(content.Length)}, sha256 {sha256}) to {target}.");
        return ExitCodes.Completed;
    }
}
