namespace Agentry.Tests;

/// A suite that could not run here says so where nobody can miss it: on the console while the
/// tests run, in the test's result, and in the file test.sh prints at the end
/// (AGENTRY_NOT_RUN_FILE). Each message is written once per test run.
public static class NotRun
{
    private static readonly HashSet<string> Reported = [];

    public static void Report(string message)
    {
        lock (Reported)
        {
            if (!Reported.Add(message))
            {
                return;
            }

            var banner = new string('!', 100);
            TestContext.Progress.WriteLine($"{banner}\n!!! {message}\n{banner}");
            if (Environment.GetEnvironmentVariable("AGENTRY_NOT_RUN_FILE") is { Length: > 0 } file)
            {
                File.AppendAllText(file, message + Environment.NewLine);
            }
        }
    }
}
