namespace Agentry.ToolExecutor;

public sealed class ToolExecutorOptions
{
    public const string Section = "Tools";

    /// The longest any one call may run before it is reported as a Timeout.
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// A different limit for some tools, by tool name (Tools:CallTimeouts:run_javascript).
    public Dictionary<string, TimeSpan> CallTimeouts { get; set; } = [];

    /// A tool's output (or error) is cut at this many characters, with a note, so one call cannot
    /// flood the model's context.
    public int MaxOutputChars { get; set; } = 16 * 1024;

    public ToolBreakerOptions CircuitBreaker { get; set; } = new();

    public TimeSpan TimeoutFor(string tool) => CallTimeouts.GetValueOrDefault(tool, CallTimeout);
}

/// When to stop calling a tool that keeps failing or timing out (per tool, per ToolExecutor process).
public sealed class ToolBreakerOptions
{
    public bool Enabled { get; set; } = true;

    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 5;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
