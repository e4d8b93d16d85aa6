using Agentry.Cli;

namespace Agentry.Tests;

/// `agentry run` in this process, as the CLI runs it: every service hosted for the one run, and
/// what it wrote to standard output and to standard error, kept apart so a test can tell which.
public static class AgentryRun
{
    /// A run that has not ended within two minutes is cancelled, so a hang fails the test.
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(RunOptions options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exit = await Commands.RunAsync(options, output, error, timeout.Token);
        return (exit, output.ToString(), error.ToString());
    }
}
