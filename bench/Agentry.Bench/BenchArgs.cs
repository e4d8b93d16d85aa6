namespace Agentry.Bench;

/// The bench's command line: `--name value` options, read the same way by every mode.
public static class BenchArgs
{
    /// The value after `name`, or null when the option is not given.
    public static string? Value(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
