using System.Text;

namespace Agentry.Tools;

public enum SandboxLanguage
{
    Python,
    Shell,
}

/// The limit that ended a call.
public enum SandboxLimit
{
    None,
    WallTime,
    CpuTime,
    Memory,
    Processes,
    Workspace,
}

/// One sandboxed execution, as recorded: what ran (the code's hash, not the code), under which limits,
/// and how it ended. Stdout/Stderr are already cut to the output limit; the byte counts are the whole.
public sealed record SandboxExecution(
    Guid RunId,
    string CallId,
    SandboxLanguage Language,
    string CodeHash,
    SandboxLimits Limits,
    int ExitCode,
    SandboxLimit Killed,
    TimeSpan Duration,
    TimeSpan Cpu,
    long PeakMemoryBytes,
    string Stdout,
    long StdoutBytes,
    string Stderr,
    long StderrBytes,
    bool Seccomp)
{
    /// What the model is told of the limit, e.g. "killed: memory limit 256 MiB".
    public string? KilledBecause => Killed switch
    {
        SandboxLimit.None => null,
        SandboxLimit.WallTime => $"killed: wall time limit {SandboxLimits.Seconds(Limits.WallTime)} s",
        SandboxLimit.CpuTime => $"killed: CPU time limit {SandboxLimits.Seconds(Limits.CpuTime)} s",
        SandboxLimit.Memory => $"killed: memory limit {SandboxLimits.Size(Limits.MemoryBytes)}",
        SandboxLimit.Processes => $"killed: process limit {Limits.Processes}",
        SandboxLimit.Workspace => $"killed: workspace limit {SandboxLimits.Size(Limits.WorkspaceBytes)} (the files this call wrote were deleted)",
        _ => "killed",
    };

    /// The tool's result: the record first, then what the program printed, each stream marked when cut.
    public string Render()
    {
        var text = new StringBuilder();
        text.Append(KilledBecause ?? $"exit {ExitCode}")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $" | {SandboxLimits.Seconds(Duration)} s | cpu {SandboxLimits.Seconds(Cpu)} s | peak memory {SandboxLimits.Size(PeakMemoryBytes)}")
            .AppendLine();
        Stream(text, "stdout", Stdout, StdoutBytes);
        Stream(text, "stderr", Stderr, StderrBytes);
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"[sandbox: {Language.ToString().ToLowerInvariant()}, code sha256:{CodeHash}, limits {Limits}{(Seccomp ? ", seccomp" : "")}]");
        return text.ToString();
    }

    private void Stream(StringBuilder text, string name, string content, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        text.Append('[').Append(name).AppendLine("]").Append(content);
        if (!content.EndsWith('\n'))
        {
            text.AppendLine();
        }

        if (bytes > Limits.OutputBytes)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"[{name} cut: the first {Limits.OutputBytes} of {bytes} bytes are shown]");
        }
    }
}
