using System.ComponentModel;
using System.Diagnostics;

namespace Agentry.Tests.Deploy;

/// kustomize, standalone or built into kubectl, when this machine has one (scripts/kustomize.sh
/// installs it where it can).
public static class Kustomize
{
    private static readonly Lazy<string[]?> Command = new(Find);

    public static bool IsAvailable => Command.Value is not null;

    public static string Describe => Command.Value is { } command ? string.Join(' ', command) : "none";

    /// The rendered manifests of a kustomization folder, relative to the repository root.
    public static async Task<string> BuildAsync(string folder)
    {
        var command = Command.Value ?? throw new InvalidOperationException("kustomize is not available.");
        var (exitCode, output, error) = await RunAsync([.. command, RepositoryFiles.PathOf(folder)]);
        return exitCode == 0 ? output : throw new AssertionException($"`{Describe} {folder}` failed ({exitCode}):{System.Environment.NewLine}{error}");
    }

    private static string[]? Find()
    {
        // Older kustomize (kubectl before 1.21 bundles v2) cannot read these kustomizations.
        foreach (var (probe, build) in new (string[] Probe, string[] Build)[]
        {
            (["kustomize", "version"], ["kustomize", "build"]),
            (["kubectl", "version", "--client"], ["kubectl", "kustomize"]),
        })
        {
            var (exitCode, output) = Probe(probe);
            if (exitCode == 0 && System.Text.RegularExpressions.Regex.Match(output, @"(?:Kustomize Version: |^)v?(\d+)\.") is { Success: true } version
                && int.Parse(version.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 4)
            {
                return build;
            }
        }

        return null;
    }

    /// Synchronous, for the Lazy that finds the tool once; the version commands print two lines.
    private static (int ExitCode, string Output) Probe(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command[1..])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (Win32Exception)
        {
            return (-1, "");
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command[1..])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output, await error);
        }
        catch (Win32Exception)
        {
            return (-1, "", $"{command[0]} is not installed");
        }
    }
}
