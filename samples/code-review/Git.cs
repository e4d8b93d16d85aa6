using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Samples.CodeReview;

/// The git command line, which the forge drives as a hosted forge drives its own repositories. No
/// user configuration takes part: identities are passed on each commit, prompts are off.
internal static class Git
{
    public static async Task<string> RunAsync(string workingDirectory, IReadOnlyList<string> arguments, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (exit, stdout, stderr) = await TryAsync(workingDirectory, arguments, cancellationToken, environment);
        return exit == 0 ? stdout
            : throw new ToolException(ToolErrorKind.Failed, $"git {string.Join(' ', arguments)} failed ({exit}): {stderr.Trim()}");
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> TryAsync(string workingDirectory, IReadOnlyList<string> arguments, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new ToolException(ToolErrorKind.Failed, "git could not be started: the forge needs git installed on the host that runs its tools.");
        }

        using var _ = process;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// The arguments that commit as someone, whatever the host's git configuration says.
    public static string[] As(string name, string email) => ["-c", $"user.name={name}", "-c", $"user.email={email}", "-c", "commit.gpgsign=false"];
}
