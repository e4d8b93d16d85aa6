namespace Agentry.Agents;

/// The `sandbox:` section of an agent: the limits of each run_python/run_shell call (null: the
/// service's default, Tools:Sandbox:Defaults), the workspace files kept as the run's artifacts when
/// it ends (Outputs: paths or `*` patterns relative to the workspace; everything else is deleted) and
/// the host folders mounted read-only into the workspace at inputs/NAME (a checkout, a data sample),
/// and the hosts its code may open tunnels to through the ToolExecutor's egress proxy (AllowedHosts,
/// HostAllowList entries, port 443 unless one is named; none by default: no network at all).
public sealed record AgentSandbox(
    TimeSpan? WallTime = null,
    TimeSpan? CpuTime = null,
    long? MemoryBytes = null,
    int? Processes = null,
    long? OutputBytes = null,
    long? WorkspaceBytes = null)
{
    public static readonly AgentSandbox Default = new();

    public IReadOnlyList<string> Outputs { get; init; } = [];

    public IReadOnlyList<SandboxInput> Inputs { get; init; } = [];

    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
}

/// A host folder the sandbox sees read-only at /workspace/inputs/Name.
public sealed record SandboxInput(string Name, string HostPath);
