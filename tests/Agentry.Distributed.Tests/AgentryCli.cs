using System.Diagnostics;

namespace Agentry.Distributed.Tests;

/// The CLI as a process of its own, as a user runs it beside a deployment.
internal static class AgentryCli
{
    /// Its exit code and everything it wrote. A CLI still running after the timeout is killed and the
    /// test fails with what it wrote so far and what `describe` adds (the deployment's state and logs).
    public static async Task<(int ExitCode, string Output)> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        TimeSpan? timeout = null, Func<Task<string>>? describe = null)
    {
        var cli = Path.Combine(Repository.Root, "cli", "Agentry.Cli", "bin", Repository.Configuration, "net10.0", "agentry.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Path.GetTempPath() };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        using var waiting = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"agentry {string.Join(' ', arguments)} did not exit within {limit.TotalSeconds:0} s:{Environment.NewLine}{await output}{await error}" +
                (describe is null ? "" : Environment.NewLine + await describe()));
        }

        return (process.ExitCode, await output + await error);
    }
}
