namespace Agentry.ToolExecutor;

public sealed class ToolExecutorOptions
{
    public const string Section = "Tools";

    /// The longest any one call may run before it is reported as a Timeout.
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
