using System.Diagnostics;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tests.ToolExecutor;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Tools.Sandbox;

/// The real run_python/run_shell of the ToolExecutor's registrations, on a workspace root of the
/// test's own. A host without isolation fails these tests and says why: they never pass without it.
public sealed class SandboxTestHost : IDisposable
{
    private readonly ServiceProvider _services;

    public SandboxTestHost(AgentSandbox? sandbox = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        if (SandboxTools.WhyUnavailable(new SandboxOptions()) is { } reason)
        {
            Assert.Fail($"The sandbox is not available on this host: {reason}. test.sh installs bubblewrap and python3 (scripts/sandbox.sh).");
        }

        _services = ToolServices.Build(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Tools:Files:Root"] = Root.Path });
        Run = new ToolInvocation(Guid.NewGuid(), "tenant-1", "coder", 1, "call_1_1") { Sandbox = sandbox ?? AgentSandbox.Default };
    }

    public TempFolder Root { get; } = new();

    public ToolInvocation Run { get; set; }

    public string Workspace => Path.Combine(Root.Path, Run.RunId.ToString("D"));

    public T Tool<T>() where T : ITool => _services.GetServices<ITool>().OfType<T>().Single();

    public Task<string> PythonAsync(string code, CancellationToken cancellationToken = default) =>
        Tool<RunPythonTool>().InvokeAsync(JsonSerializer.SerializeToElement(new { code }), Run, cancellationToken);

    public Task<string> ShellAsync(string command) =>
        Tool<RunShellTool>().InvokeAsync(JsonSerializer.SerializeToElement(new { command }), Run, CancellationToken.None);

    /// The call's failure, which must be a limit's: what the model is shown.
    public async Task<ToolException> LimitAsync(Func<Task<string>> call)
    {
        try
        {
            var output = await call();
            Assert.Fail($"The call was expected to be stopped by a limit, but it ended normally:{Environment.NewLine}{output}");
            throw new UnreachableException();
        }
        catch (ToolException e)
        {
            Assert.That(e.CausedByCaller, Is.True, e.Message);
            return e;
        }
    }

    /// Host processes whose command line contains the marker.
    public static List<int> ProcessesWith(string marker) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit)).Select(int.Parse!)
            .Where(pid =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains(marker, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            })];

    public void Dispose()
    {
        _services.Dispose();
        Root.Dispose();
    }
}
