using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Agents;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// What to run: the run's workspace is mounted read-write at /workspace, each input read-only at
/// /workspace/inputs/NAME. AllowedHosts: where its code may open tunnels (EgressProxy); none, no network.
public sealed record SandboxRequest(Guid RunId, string CallId, SandboxLanguage Language, string Code, SandboxLimits Limits, IReadOnlyList<SandboxInput> Inputs)
{
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
}

/// Runs code under bubblewrap (docs/sandbox.md): its own user, PID, network, IPC, UTS and cgroup
/// namespaces, a new session, no capabilities, no further user namespaces, a seccomp filter, only
/// /usr of the host (read-only), a private /tmp, rlimits, and the wall clock and workspace size
/// watched by the launcher outside. Nothing of the host reaches the result: the environment is
/// cleared before the launcher starts, and the workspace's host path is replaced by /workspace.
public sealed partial class SandboxRunner(RunWorkspace workspace, IOptionsMonitor<SandboxOptions> options, IHostResolver resolver, TimeProvider clock, ILogger<SandboxRunner> logger)
{
    internal const string SandboxUid = "1000";

    /// Where the sandbox sees the egress proxy's socket folder, and where its forwarder listens.
    private const string EgressMount = "/run/egress";
    private const string ForwarderAddress = "http://127.0.0.1:3128";

    internal static readonly string Launcher = ReadResource("launcher.py");

    private static readonly string Forwarder = ReadResource("egress_forwarder.py");

    public async Task<SandboxExecution> RunAsync(SandboxRequest request, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var folder = workspace.FolderOf(request.RunId);
        Directory.CreateDirectory(folder);
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
        {
            // The sandbox's host uid must pass through the workspaces' root (created 700 by some
            // tools) to reach its own folder; it may not list it (711). The folders above it must
            // allow the same (docs/sandbox.md).
            var root = Path.GetDirectoryName(folder)!;
            File.SetUnixFileMode(root, File.GetUnixFileMode(root) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        foreach (var input in request.Inputs.Where(i => !Directory.Exists(i.HostPath)))
        {
            throw new ToolException(Agentry.Contracts.ToolErrorKind.Failed, $"The input '{input.Name}' is not available on this host, so the code was not run.");
        }

        var program = request.Language == SandboxLanguage.Python
            ? new[] { settings.Python, "-I", "-c", request.Code }
            : [settings.Shell, "-c", request.Code];
        var started = clock.GetUtcNow();
        await using var egress = request.AllowedHosts.Count == 0 ? null
            : EgressProxy.Start(request.AllowedHosts, resolver, settings.Egress, logger, $"call {request.CallId} of run {request.RunId}");
        var (report, stdout, stderr) = await LaunchAsync(settings, folder, request.Limits, request.Inputs, program, cancellationToken, egress?.Folder);

        var killed = Classify(report, request.Limits, stderr.Text);
        if (killed == SandboxLimit.Workspace)
        {
            DeleteWrittenSince(folder, started);
        }

        var execution = new SandboxExecution(
            request.RunId, request.CallId, request.Language, Hash(request.Code), request.Limits,
            report.Exit, killed, TimeSpan.FromSeconds(report.Seconds), TimeSpan.FromSeconds(report.Cpu), report.PeakKib * 1024,
            Scrub(stdout.Text, folder), stdout.TotalBytes, Scrub(stderr.Text, folder), stderr.TotalBytes, report.Seccomp);
        LogExecuted(logger, request.Language, request.CallId, request.RunId, execution.CodeHash, execution.ExitCode, execution.KilledBecause ?? "-",
            execution.Duration.TotalSeconds, execution.Cpu.TotalSeconds, execution.PeakMemoryBytes);
        return execution;
    }

    /// Whether the sandbox works on this host: the real launcher and bubblewrap, running the real
    /// Python on an empty workspace. Null when it does; the reason otherwise.
    internal static string? Probe(SandboxOptions settings)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the code sandbox needs Linux namespaces (bubblewrap); this host is not Linux";
        }

        foreach (var (path, what) in new[] { (settings.Bubblewrap, "bubblewrap (Debian: apt-get install bubblewrap)"), (settings.Python, "python3 (Debian: apt-get install python3)"), (settings.Shell, "a shell") })
        {
            if (!File.Exists(path))
            {
                return $"{what} is not at {path} (Tools:Sandbox)";
            }
        }

        var folder = Path.Combine(Path.GetTempPath(), $"agentry-sandbox-probe-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var limits = new SandboxLimitOptions();
            var (report, _, stderr) = LaunchAsync(settings, folder, new SandboxLimits(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10), limits.MemoryBytes, limits.Processes, 4096, 1L << 20), [],
                [settings.Python, "-I", "-c", "import os; assert os.getuid() == " + SandboxUid], CancellationToken.None).GetAwaiter().GetResult();
            return report.Exit == 0 ? null : $"bubblewrap could not start an isolated process (no user namespaces?): {stderr.Text.Trim()}";
        }
        catch (Exception e) when (e is ToolException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"the sandbox launcher failed: {e.Message}";
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(LaunchReport Report, (string Text, long TotalBytes) Stdout, (string Text, long TotalBytes) Stderr)> LaunchAsync(
        SandboxOptions settings, string folder, SandboxLimits limits, IReadOnlyList<SandboxInput> inputs, string[] program, CancellationToken cancellationToken, string? egressFolder = null)
    {
        var reportFile = Path.Combine(Path.GetTempPath(), $"agentry-sandbox-{Guid.NewGuid():N}.json");
        var spec = JsonSerializer.Serialize(new
        {
            argv = BubblewrapArguments(settings, folder, limits, inputs, program, egressFolder),
            limits = new
            {
                cpu = (long)Math.Ceiling(limits.CpuTime.TotalSeconds),
                memory = limits.MemoryBytes,
                file = limits.WorkspaceBytes,
                files = 256,
                processes = limits.Processes,
            },
            uid = Environment.IsPrivilegedProcess ? settings.HostUid : (int?)null,
            wall = limits.WallTime.TotalSeconds,
            workspace = folder,
            workspace_max = limits.WorkspaceBytes,
            report = reportFile,
            seccomp = settings.Seccomp,
        });
        var start = new ProcessStartInfo(settings.Python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])["-I", "-S", "-c", Launcher, spec])
        {
            start.ArgumentList.Add(argument);
        }

        // The service's environment (its secrets) must not reach bwrap: the sandbox's PID 1 is a bwrap
        // process, and its /proc/1/environ is readable inside.
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the sandbox launcher did not start");
        process.StandardInput.Close();
        try
        {
            var max = (int)Math.Min(limits.OutputBytes, int.MaxValue);
            var stdout = CappedText.DrainAsync(process.StandardOutput.BaseStream, max, cancellationToken);
            var stderr = CappedText.DrainAsync(process.StandardError.BaseStream, max, cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            var (outText, errText) = (await stdout, await stderr);
            if (process.ExitCode != 0 || !File.Exists(reportFile))
            {
                throw new ToolException(Agentry.Contracts.ToolErrorKind.Failed, "The sandbox could not be started on this host; the code was not run.");
            }

            var report = JsonSerializer.Deserialize<LaunchReport>(await File.ReadAllTextAsync(reportFile, CancellationToken.None))!;
            if (report is { Exit: 1, Killed: null } && errText.Text.StartsWith("bwrap: ", StringComparison.Ordinal))
            {
                throw new ToolException(Agentry.Contracts.ToolErrorKind.Failed, $"The sandbox could not be set up; the code was not run: {Scrub(errText.Text, folder).Trim()}");
            }

            return (report, outText, errText);
        }
        finally
        {
            if (!process.HasExited)
            {
                // A cancelled call: bwrap runs with --die-with-parent, so the launcher takes the sandbox with it.
                process.Kill(entireProcessTree: true);
            }

            File.Delete(reportFile);
        }
    }

    private static List<string> BubblewrapArguments(SandboxOptions settings, string folder, SandboxLimits limits, IReadOnlyList<SandboxInput> inputs, string[] program, string? egressFolder)
    {
        List<string> args =
        [
            settings.Bubblewrap,
            "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--uid", SandboxUid, "--gid", SandboxUid, "--hostname", "sandbox", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr",
        ];
        // Debian's /bin, /lib ... are links into /usr; elsewhere they are folders, mounted read-only.
        foreach (var top in (string[])["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"])
        {
            var info = new DirectoryInfo(top);
            if (info.LinkTarget is { } target)
            {
                args.AddRange(["--symlink", target, top]);
            }
            else if (info.Exists)
            {
                args.AddRange(["--ro-bind", top, top]);
            }
        }

        args.AddRange(["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind-try", "/etc/alternatives", "/etc/alternatives"]);
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--size", limits.WorkspaceBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp"]);
        args.AddRange(["--bind", folder, "/workspace"]);
        foreach (var input in inputs)
        {
            args.AddRange(["--ro-bind", input.HostPath, $"/workspace/inputs/{input.Name}"]);
        }

        if (egressFolder is not null)
        {
            // A unix socket on a read-only mount still accepts connections; nothing else is in the folder.
            args.AddRange(["--ro-bind", egressFolder, EgressMount]);
        }

        // The root is bwrap's own tmpfs: read-only, so that /workspace and /tmp are the only places to write.
        args.AddRange(["--remount-ro", "/", "--chdir", "/workspace", "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/workspace", "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8",
            // A .pyc keyed on mtime and size would hide a same-second, same-size edit (a fixed patch).
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]);
        if (egressFolder is not null)
        {
            foreach (var variable in (string[])["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
            {
                args.AddRange(["--setenv", variable, ForwarderAddress]);
            }

            args.AddRange(["--", settings.Python, "-I", "-S", "-c", Forwarder]);
        }
        else
        {
            args.Add("--");
        }

        args.AddRange(program);
        return args;
    }

    /// The limit that ended the call. The wall clock and the workspace are the launcher's own kills;
    /// the others are inferred from how the program ended, since without cgroup v2 the kernel does
    /// not say which rlimit stopped it (docs/sandbox.md).
    private static SandboxLimit Classify(LaunchReport report, SandboxLimits limits, string stderr)
    {
        const int SignalBase = 128, SigKill = 9, SigSegv = 11, SigXcpu = 24, SigXfsz = 25;
        return report switch
        {
            { Killed: "wall" } => SandboxLimit.WallTime,
            { Killed: "workspace" } => SandboxLimit.Workspace,
            { Exit: 0 } => SandboxLimit.None,
            { Exit: SignalBase + SigXcpu } => SandboxLimit.CpuTime,
            { Exit: SignalBase + SigKill } when report.Cpu >= limits.CpuTime.TotalSeconds => SandboxLimit.CpuTime,
            _ when stderr.Contains("MemoryError", StringComparison.Ordinal) || stderr.Contains("Cannot allocate memory", StringComparison.Ordinal)
                || stderr.Contains("bad_alloc", StringComparison.Ordinal) || stderr.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                || (report.Exit is SignalBase + SigKill or SignalBase + SigSegv && report.PeakKib * 1024 >= limits.MemoryBytes * 8 / 10) => SandboxLimit.Memory,
            { Exit: SignalBase + SigXfsz } => SandboxLimit.Workspace,
            _ when stderr.Contains("File too large", StringComparison.Ordinal) => SandboxLimit.Workspace,
            _ when stderr.Contains("Resource temporarily unavailable", StringComparison.Ordinal) => SandboxLimit.Processes,
            _ => SandboxLimit.None,
        };
    }

    /// A call that overfilled the workspace leaves it as it was before, as far as new and changed
    /// files go (a program could back-date what it wrote; the limit still stopped it).
    private static void DeleteWrittenSince(string folder, DateTimeOffset started)
    {
        var since = started.UtcDateTime;
        var all = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var file in Directory.EnumerateFiles(folder, "*", all).Where(f => File.GetLastWriteTimeUtc(f) >= since).ToList())
        {
            File.Delete(file);
        }

        foreach (var directory in Directory.EnumerateDirectories(folder, "*", all).OrderByDescending(d => d.Length).ToList())
        {
            if (Directory.GetCreationTimeUtc(directory) >= since && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
    }

    internal static string Scrub(string text, string folder) => text.Replace(folder, "/workspace", StringComparison.Ordinal);

    private static string Hash(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)))[..16];

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Agentry.Tools.Sandbox.{name}")
            ?? throw new InvalidOperationException($"The sandbox's {name} is not embedded in Agentry.Tools.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private sealed record LaunchReport(
        [property: System.Text.Json.Serialization.JsonPropertyName("exit")] int Exit,
        [property: System.Text.Json.Serialization.JsonPropertyName("killed")] string? Killed,
        [property: System.Text.Json.Serialization.JsonPropertyName("seconds")] double Seconds,
        [property: System.Text.Json.Serialization.JsonPropertyName("cpu")] double Cpu,
        [property: System.Text.Json.Serialization.JsonPropertyName("peak_kib")] long PeakKib,
        [property: System.Text.Json.Serialization.JsonPropertyName("seccomp")] bool Seccomp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {Language} call {CallId} of run {RunId}: code {CodeHash}, exit {ExitCode}, {Killed}, {Seconds:0.###} s, cpu {Cpu:0.###} s, peak {PeakBytes} bytes.")]
    private static partial void LogExecuted(ILogger logger, SandboxLanguage language, string callId, Guid runId, string codeHash, int exitCode, string killed, double seconds, double cpu, long peakBytes);
}
