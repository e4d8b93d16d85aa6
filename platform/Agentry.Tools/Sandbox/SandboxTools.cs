using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// run_python and run_shell: code in the sandbox (docs/sandbox.md), offered only where the sandbox
/// works on this host. Nowhere does code run without it.
public static partial class SandboxTools
{
    private static readonly ConcurrentDictionary<(bool, bool, string, string, string, int, bool), Lazy<string?>> Checked = new();

    public static ToolPack Pack { get; } = ToolPack.Withholdable([RunPythonTool.Descriptor, RunShellTool.Descriptor], (services, _) =>
    {
        services.AddOptions<SandboxOptions>().BindConfiguration(SandboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IHostResolver, DnsHostResolver>();
        services.AddSingleton<SandboxRunner>();
        services.AddSingleton<ITool, RunPythonTool>();
        services.AddSingleton<ITool, RunShellTool>();
    }, configuration => WhyUnavailable(Read(configuration)));

    /// Why the sandbox cannot run code on this host (or is turned off), or null when it can. Checked
    /// once per process and settings, by running the real sandbox.
    public static string? WhyUnavailable(SandboxOptions settings) =>
        Checked.GetOrAdd((settings.Enabled, settings.Probe, settings.Bubblewrap, settings.Python, settings.Shell, settings.HostUid, settings.Seccomp),
            _ => new Lazy<string?>(() => !settings.Enabled ? "turned off (Tools:Sandbox:Enabled is false)"
                : settings.Probe ? SandboxRunner.Probe(settings)
                : null)).Value;

    /// The options, the health check and the start message. Registered by the service that runs tools
    /// whether or not the sandbox is available, so that it says why not.
    public static IServiceCollection AddSandboxChecks(this IServiceCollection services)
    {
        services.AddOptions<SandboxOptions>().BindConfiguration(SandboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHealthChecks().AddCheck<SandboxHealthCheck>("sandbox", HealthStatus.Degraded, tags: ["ready"]);
        services.AddHostedService<SandboxAtStart>();
        return services;
    }

    private static SandboxOptions Read(IConfiguration? configuration) =>
        configuration?.GetSection(SandboxOptions.Section).Get<SandboxOptions>() ?? new SandboxOptions();

    /// Degraded, not unhealthy, without isolation: the service works, without the code tools.
    private sealed class SandboxHealthCheck(IOptions<SandboxOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(WhyUnavailable(options.Value) is { } reason
                ? HealthCheckResult.Degraded($"run_python and run_shell are not offered: {reason}")
                : !options.Value.Probe
                    ? HealthCheckResult.Healthy("run_python and run_shell are offered without checking this host (Tools:Sandbox:Probe is false): the ToolExecutors run them")
                    : HealthCheckResult.Healthy("run_python and run_shell run isolated by bubblewrap (docs/sandbox.md)"));
    }

    private sealed partial class SandboxAtStart(IOptions<SandboxOptions> options, ILogger<SandboxAtStart> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (WhyUnavailable(options.Value) is { } reason)
            {
                LogUnavailable(logger, reason);
            }
            else if (!options.Value.Probe)
            {
                LogUnchecked(logger);
            }
            else
            {
                LogAvailable(logger, options.Value.Bubblewrap);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "run_python and run_shell are not offered: {Reason}. Agents that list them load without them.")]
        private static partial void LogUnavailable(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "run_python and run_shell are offered without checking this host (Tools:Sandbox:Probe is false); the ToolExecutors run them.")]
        private static partial void LogUnchecked(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "run_python and run_shell run isolated by {Bubblewrap}.")]
        private static partial void LogAvailable(ILogger logger, string bubblewrap);
    }

    /// One call of run_python or run_shell: the agent's limits, the record on the call's span, and a
    /// limit that ended it reported as the call's failure, with what the program printed.
    internal static async Task<string> RunAsync(SandboxRunner runner, SandboxOptions settings, SandboxLanguage language, string code, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var execution = await runner.RunAsync(
            new SandboxRequest(invocation.RunId, invocation.CallId, language, code, settings.LimitsFor(invocation.Sandbox), invocation.Sandbox.Inputs) { AllowedHosts = invocation.Sandbox.AllowedHosts },
            cancellationToken);
        if (Activity.Current is { } span)
        {
            span.SetTag("agentry.sandbox.code_sha256", execution.CodeHash);
            span.SetTag("agentry.sandbox.exit_code", execution.ExitCode);
            span.SetTag("agentry.sandbox.killed", execution.Killed == SandboxLimit.None ? null : execution.Killed.ToString());
            span.SetTag("agentry.sandbox.duration_s", execution.Duration.TotalSeconds);
            span.SetTag("agentry.sandbox.cpu_s", execution.Cpu.TotalSeconds);
            span.SetTag("agentry.sandbox.peak_memory_bytes", execution.PeakMemoryBytes);
            span.SetTag("agentry.sandbox.limits", execution.Limits.ToString());
        }

        return execution.Killed == SandboxLimit.None
            ? execution.Render()
            : throw new ToolException(execution.Killed == SandboxLimit.WallTime ? ToolErrorKind.Timeout : ToolErrorKind.Failed, execution.Render(), causedByCaller: true);
    }
}

public sealed class RunPythonTool(SandboxRunner runner, IOptionsMonitor<SandboxOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("run_python", "Runs a Python 3 program in an isolated sandbox and returns its exit code, what it printed (stdout, stderr) and its time and memory. The working directory /workspace is this run's workspace: files written there stay for the rest of the run (read_file/write_file see them); read-only inputs are under /workspace/inputs. No network; time, CPU, memory, processes and output are limited.", ToolSchema.ClosedObject("""
        "code": { "type": "string", "minLength": 1, "maxLength": 100000, "description": "The program, for example print(sum(range(10)))." }
        """, "code"), SideEffects: true);

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        SandboxTools.RunAsync(runner, options.CurrentValue, SandboxLanguage.Python, arguments.GetProperty("code").GetString()!, invocation, cancellationToken);
}

public sealed class RunShellTool(SandboxRunner runner, IOptionsMonitor<SandboxOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("run_shell", "Runs a bash command line in an isolated sandbox and returns its exit code, what it printed (stdout, stderr) and its time and memory. The working directory /workspace is this run's workspace (files persist for the run; inputs read-only under /workspace/inputs); the tools of the host's /usr are there (python3, tar, grep ...). No network; time, CPU, memory, processes and output are limited.", ToolSchema.ClosedObject("""
        "command": { "type": "string", "minLength": 1, "maxLength": 100000, "description": "The command line, for example python3 -m unittest discover -s tests." }
        """, "command"), SideEffects: true);

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        SandboxTools.RunAsync(runner, options.CurrentValue, SandboxLanguage.Shell, arguments.GetProperty("command").GetString()!, invocation, cancellationToken);
}
