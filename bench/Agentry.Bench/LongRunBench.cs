using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Bench;

/// Issue 22's flat memory over a long run: one run of `--steps` (1,000) steps, every service in this
/// process on RabbitMQ and Redis (or `--in-memory`), a zero-latency scripted model (LargePayloadBench's
/// endpoint: it calls run_javascript, each result about `--output-bytes` (2,000) bytes of words that differ from step to step, until the
/// last step, where it answers; the offline model answers as soon as it sees a tool result, so it never
/// runs long). `memory.context_tokens` 16,000, so from about step 40 every context is compacted.
/// Prints the managed heap after a full collection every `--heap-every` (50) steps, the time per step
/// and Memory's context assembly time around step 100 and at the end, and the largest context against
/// its budget. Usage:
///   dotnet run -c Release --project bench/Agentry.Bench -- --long-run [--steps 1000] [--output-bytes 2000] [--heap-every 50] [--in-memory]
public static class LongRunBench
{
    private static readonly int[] Centres = [100, 250, 500, 750];

    private sealed record ContextSample(int Step, int Tokens, int Budget, double AssembleMs, TimeSpan At);

    public static async Task<int> RunAsync(string[] args)
    {
        var steps = int.Parse(BenchArgs.Value(args, "--steps") ?? "1000", CultureInfo.InvariantCulture);
        var outputBytes = int.Parse(BenchArgs.Value(args, "--output-bytes") ?? "2000", CultureInfo.InvariantCulture);
        var heapEvery = int.Parse(BenchArgs.Value(args, "--heap-every") ?? "50", CultureInfo.InvariantCulture);
        var inMemory = args.Contains("--in-memory");
        // The model answers once it has seen steps - 1 results: the answer is step `steps`, within max_steps.
        await using var model = await LargePayloadBench.StartModelAsync(steps - 1, outputBytes, words: true);

        var contexts = new ConcurrentDictionary<int, ContextSample>();
        var clock = Stopwatch.StartNew();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AgentryTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "assemble_context"
                    && activity.GetTagItem(AgentryTelemetry.Tags.Step) is int step
                    && activity.GetTagItem(AgentryTelemetry.Tags.ContextTokens) is int tokens
                    && activity.GetTagItem(AgentryTelemetry.Tags.ContextBudget) is int budget)
                {
                    contexts[step] = new ContextSample(step, tokens, budget, activity.Duration.TotalMilliseconds, clock.Elapsed);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var run = await ScriptedRun.StartAsync(model.Url, inMemory ? null : $"agentry-bench:{Guid.NewGuid():N}:", new Dictionary<string, string?>());

        Console.WriteLine($"Agentry long-run bench: {steps} steps, tool results of {outputBytes:N0} bytes, {(inMemory ? "in-memory bus and saga" : $"RabbitMQ {new Uri(ScriptedRun.RabbitMqUrl).Host}, Redis {ScriptedRun.RedisUrl}")}, {Environment.ProcessorCount} cores");
        clock.Restart();
        await run.StartRunAsync();
        var heap = new List<(int Step, double Megabytes)>();
        var next = heapEvery;
        while (!run.Ended.IsCompleted)
        {
            await Task.WhenAny(run.Ended, Task.Delay(20));
            var reached = contexts.IsEmpty ? 0 : contexts.Keys.Max();
            if (reached >= next)
            {
                heap.Add((reached, GC.GetTotalMemory(forceFullCollection: true) / 1_048_576.0));
                next += heapEvery;
            }
        }

        var how = await run.Ended;
        var wall = clock.Elapsed;
        heap.Add((steps, GC.GetTotalMemory(forceFullCollection: true) / 1_048_576.0));
        var samples = contexts.Values.OrderBy(c => c.Step).ToList();

        Console.WriteLine($"run: {how}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wall time: {wall.TotalSeconds:0.0} s ({wall.TotalMilliseconds / steps:0.0} ms per step); model calls {model.Calls}"));
        var over = samples.Where(c => c.Tokens > c.Budget).ToList();
        var largest = samples.MaxBy(c => c.Tokens);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"contexts: {samples.Count}, largest {largest?.Tokens:N0} tokens at step {largest?.Step} (budget {largest?.Budget:N0}), over the budget: {over.Count}"));
        Console.WriteLine("| steps | ms per step | context assembly ms (median) | context tokens (largest) |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (from, to) in Windows(steps))
        {
            var window = samples.Where(c => c.Step >= from && c.Step <= to).ToList();
            var before = samples.LastOrDefault(c => c.Step < from);
            if (window.Count == 0 || before is null)
            {
                continue;
            }

            var perStep = (window[^1].At - before.At).TotalMilliseconds / (window[^1].Step - before.Step);
            var assemble = window.Select(c => c.AssembleMs).Order().ElementAt(window.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {from} to {to} | {perStep:0.0} | {assemble:0.0} | {window.Max(c => c.Tokens):N0} |"));
        }

        Console.WriteLine("managed heap after a full collection (the whole process: every service, the bus, the model endpoint):");
        Console.WriteLine("| step | MB |");
        Console.WriteLine("|---|---|");
        foreach (var (step, megabytes) in heap)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {step} | {megabytes:0.0} |"));
        }

        var warm = heap.Where(h => h.Step >= Math.Min(200, steps / 5)).ToList();
        if (warm.Count >= 3)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"heap slope after step {warm[0].Step}: {Slope(warm) * 100:0.000} MB per 100 steps"));
        }

        return await run.ExitCodeAsync();
    }

    private static IEnumerable<(int From, int To)> Windows(int steps)
    {
        foreach (var centre in Centres.Where(c => c + 10 < steps))
        {
            yield return (centre - 9, centre + 10);
        }

        yield return (steps - 19, steps);
    }

    /// Least squares: MB per step.
    private static double Slope(List<(int Step, double Megabytes)> points)
    {
        var meanX = points.Average(p => (double)p.Step);
        var meanY = points.Average(p => p.Megabytes);
        return points.Sum(p => (p.Step - meanX) * (p.Megabytes - meanY)) / points.Sum(p => (p.Step - meanX) * (p.Step - meanX));
    }
}
