using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Agentry.Agents;

namespace Agentry.Tools;

/// The code sandbox (Tools:Sandbox): where bubblewrap and the interpreters are, and the limits of a
/// call when the agent's `sandbox:` section does not set them.
public sealed class SandboxOptions : IValidatableObject
{
    public const string Section = "Tools:Sandbox";

    /// false: run_python and run_shell are not offered (the reason /health/ready gives).
    public bool Enabled { get; set; } = true;

    /// false: this service only offers run_python and run_shell (the Planner, in a deployment where
    /// only the ToolExecutor's pod may create user namespaces) and does not check its own host. Code
    /// still never runs unisolated: the ToolExecutor keeps it true, and bwrap refuses to start rather
    /// than run code without its namespaces.
    public bool Probe { get; set; } = true;

    [Required]
    public string Bubblewrap { get; set; } = "/usr/bin/bwrap";

    /// The Python that runs the launcher on the host and the code inside the sandbox: the system's,
    /// under /usr, because only /usr is mounted inside (a pyenv or venv Python under a home is not).
    [Required]
    public string Python { get; set; } = "/usr/bin/python3";

    [Required]
    public string Shell { get; set; } = "/usr/bin/bash";

    /// The host uid the sandbox runs as when the service runs as root: the kernel does not hold uid 0
    /// to a process limit, so a root service drops to this one first.
    [Range(1, int.MaxValue)]
    public int HostUid { get; set; } = 65534;

    /// A seccomp filter denying kernel interfaces code has no use for (x86_64 only).
    public bool Seccomp { get; set; } = true;

    public SandboxLimitOptions Defaults { get; set; } = new();

    /// The proxy through which code reaches its agent's sandbox.allowed_hosts (none by default).
    public SandboxEgressOptions Egress { get; set; } = new();

    /// The most one output file may have to be kept as an artifact when the run ends; a larger one is
    /// left out, and the run's artifact list says so and why.
    [Range(1, MaxArtifactsBytesCeiling)]
    public long MaxArtifactBytes { get; set; } = 1L << 20;

    /// The most a run's kept artifacts may add up to. They travel to Memory in one message, so this
    /// stays well under RabbitMQ's message size limit (16 MiB by default since 4.0; base64 adds a third).
    [Range(1, MaxArtifactsBytesCeiling)]
    public long MaxArtifactsBytes { get; set; } = 4L << 20;

    /// The most output files of a run that are listed (kept or left out with the reason); any further
    /// ones are only counted.
    [Range(1, 10_000)]
    public int MaxArtifacts { get; set; } = 100;

    /// 8 MiB of content is about 11 MiB on the wire: under the broker's 16 MiB and MongoDB's 16 MiB document.
    private const long MaxArtifactsBytesCeiling = 8L << 20;

    /// The nested Egress section, which data annotations do not reach on their own.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Egress.HeaderTimeout <= TimeSpan.Zero || Egress.ConnectTimeout <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Tools:Sandbox:Egress:HeaderTimeout and :ConnectTimeout must be positive durations such as 00:00:10.");
        }

        if (Egress.MaxBytesPerCall <= 0)
        {
            yield return new ValidationResult("Tools:Sandbox:Egress:MaxBytesPerCall must be a positive number of bytes.");
        }
    }

    public SandboxLimits LimitsFor(AgentSandbox agent) => new(
        agent.WallTime ?? Defaults.WallTime,
        agent.CpuTime ?? Defaults.CpuTime,
        agent.MemoryBytes ?? Defaults.MemoryBytes,
        agent.Processes ?? Defaults.Processes,
        agent.OutputBytes ?? Defaults.OutputBytes,
        agent.WorkspaceBytes ?? Defaults.WorkspaceBytes);
}

public sealed class SandboxLimitOptions
{
    public TimeSpan WallTime { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan CpuTime { get; set; } = TimeSpan.FromSeconds(10);

    public long MemoryBytes { get; set; } = 256L << 20;

    public int Processes { get; set; } = 64;

    /// Per stream: stdout and stderr are each cut at this size, and marked as cut.
    public long OutputBytes { get; set; } = 8L << 10;

    public long WorkspaceBytes { get; set; } = 100L << 20;
}

public sealed class SandboxEgressOptions
{
    /// Hosts that may resolve to loopback or private addresses (an internal package mirror); each
    /// must also be in the agent's sandbox.allowed_hosts.
    public List<string> PrivateHosts { get; set; } = [];

    /// What all of one call's tunnels may carry, both ways together; a tunnel is closed beyond it.
    public long MaxBytesPerCall { get; set; } = 100L << 20;

    /// How long code has to send its CONNECT request once connected (a slow sender is dropped).
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// How long resolving the host and connecting to it may take.
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// The limits one call runs under.
public sealed record SandboxLimits(TimeSpan WallTime, TimeSpan CpuTime, long MemoryBytes, int Processes, long OutputBytes, long WorkspaceBytes)
{
    public override string ToString() =>
        $"wall {Seconds(WallTime)} s, cpu {Seconds(CpuTime)} s, memory {Size(MemoryBytes)}, processes {Processes}, output {Size(OutputBytes)}, workspace {Size(WorkspaceBytes)}";

    internal static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);

    internal static string Size(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30} GiB"
        : bytes >= 1L << 20 ? $"{(bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture)} MiB"
        : $"{bytes >> 10} KiB";
}
