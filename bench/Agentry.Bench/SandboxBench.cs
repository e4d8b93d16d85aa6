using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Bench;

/// The start latency of a sandboxed call: run_python of `print(1)` end to end, as the ToolExecutor
/// calls it (launcher, bubblewrap, namespaces, seccomp, Python's own start), one call at a time.
///   dotnet run -c Release --project bench/Agentry.Bench -- --sandbox [--calls 200]
public static class SandboxBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var calls = int.Parse(BenchArgs.Value(args, "--calls") ?? "200", CultureInfo.InvariantCulture);
        if (SandboxTools.WhyUnavailable(new SandboxOptions()) is { } reason)
        {
            Console.Error.WriteLine($"The sandbox is not available here: {reason}");
            return 1;
        }

        var root = Directory.CreateTempSubdirectory("agentry-bench-sandbox-").FullName;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Tools:Files:Root"] = root }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSingleton(TimeProvider.System);
        services.AddToolPack(FileTools.Pack, configuration);
        services.AddToolPack(SandboxTools.Pack, configuration);
        await using var provider = services.BuildServiceProvider();
        var tool = provider.GetServices<ITool>().OfType<RunPythonTool>().Single();
        var arguments = JsonSerializer.SerializeToElement(new { code = "print(1)" });
        var run = new ToolInvocation(Guid.NewGuid(), "bench", "bench", 1, "call");
        await tool.InvokeAsync(arguments, run, CancellationToken.None);
        var times = new List<double>();
        for (var i = 0; i < calls; i++)
        {
            var clock = Stopwatch.StartNew();
            await tool.InvokeAsync(arguments, run, CancellationToken.None);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        double At(double q) => times[(int)Math.Min(times.Count - 1, Math.Ceiling(q * times.Count) - 1)];
        Console.WriteLine($"Agentry sandbox bench: {Environment.ProcessorCount} cores, {calls} calls of run_python print(1), one at a time");
        Console.WriteLine("| calls | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {calls} | {At(0.5):0} | {At(0.9):0} | {At(0.99):0} | {times[^1]:0} |"));
        Directory.Delete(root, recursive: true);
        return 0;
    }
}
