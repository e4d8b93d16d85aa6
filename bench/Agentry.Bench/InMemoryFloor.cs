using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MassTransit;

namespace Agentry.Bench;

/// The floor of the embedded default: ../shared/floor's hops (a publish and a delivery to a consumer,
/// in sequence, six a step) on MassTransit's in-memory transport, with no domain code, so that aim 3
/// of docs/performance.md (in memory: 1,000 steps/s, 2 ms added per step) can be set against what the
/// bus alone costs here. `--pipeline` adds what every Agentry endpoint has (the retry policy, the
/// in-memory outbox and MassTransit's instrumentation), to price that configuration apart.
///   Agentry.Bench --in-memory-floor [--hops 6] [--levels 1,10,100] [--steps 3000] [--pipeline]
public static class InMemoryFloor
{
    private static readonly ConcurrentDictionary<Guid, TaskCompletionSource> Pending = new();

    public static async Task<int> RunAsync(string[] args)
    {
        var hops = int.Parse(BenchArgs.Value(args, "--hops") ?? "6", CultureInfo.InvariantCulture);
        var levels = (BenchArgs.Value(args, "--levels") ?? "1,10,100").Split(',').Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        var steps = int.Parse(BenchArgs.Value(args, "--steps") ?? "3000", CultureInfo.InvariantCulture);
        var pipeline = args.Contains("--pipeline");

        var bus = Bus.Factory.CreateUsingInMemory(cfg =>
        {
            cfg.PrefetchCount = 32;
            if (pipeline)
            {
                cfg.UseInstrumentation(serviceName: "floor");
            }

            cfg.ReceiveEndpoint("floor-a", e => Configure(e, pipeline, () => e.Consumer<HopAConsumer>()));
            cfg.ReceiveEndpoint("floor-b", e => Configure(e, pipeline, () => e.Consumer<HopBConsumer>()));
        });
        await bus.StartAsync();
        Console.WriteLine($"in-memory floor: {hops} hops a step, prefetch 32, {(pipeline ? "with Agentry's endpoint pipeline (retry, in-memory outbox, instrumentation)" : "bare endpoints")}, {Environment.ProcessorCount} cores");
        Console.WriteLine("| concurrent | steps/s | step p50 ms | step p99 ms | CPU per step ms |");
        Console.WriteLine("|---|---|---|---|---|");
        await RunLevelAsync(bus, hops, 10, steps, print: false);
        foreach (var level in levels)
        {
            await RunLevelAsync(bus, hops, level, steps, print: true);
        }

        await bus.StopAsync();
        return 0;
    }

    private static void Configure(IInMemoryReceiveEndpointConfigurator endpoint, bool pipeline, Action addConsumer)
    {
        if (pipeline)
        {
            endpoint.UseMessageRetry(retry => retry.Intervals(0, 0, 20, 100, 500, 2000));
            // This bus has no container, which the newer overload needs; the outbox is the same.
#pragma warning disable CS0618
            endpoint.UseInMemoryOutbox();
#pragma warning restore CS0618
        }

        addConsumer();
    }

    private static async Task RunLevelAsync(IBus bus, int hops, int concurrency, int total, bool print)
    {
        var latencies = new ConcurrentBag<double>();
        var started = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref started) <= total)
            {
                var id = Guid.NewGuid();
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Pending[id] = done;
                var t0 = Stopwatch.GetTimestamp();
                await bus.Publish(new HopA(id, hops - 1));
                await done.Task;
                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpuPerStep = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / total;
        if (print)
        {
            var sorted = latencies.Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {concurrency} | {sorted.Length / elapsed:0.0} | {sorted[sorted.Length / 2]:0.00} | {sorted[(int)(sorted.Length * 0.99)]:0.00} | {cpuPerStep:0.00} |"));
        }
    }

    private static async Task Next(ConsumeContext context, Guid id, int left, bool toB)
    {
        if (left == 0)
        {
            if (Pending.TryRemove(id, out var done))
            {
                done.TrySetResult();
            }

            return;
        }

        if (toB)
        {
            await context.Publish(new HopB(id, left - 1));
        }
        else
        {
            await context.Publish(new HopA(id, left - 1));
        }
    }

    public sealed record HopA(Guid RunId, int Left);

    public sealed record HopB(Guid RunId, int Left);

    public sealed class HopAConsumer : IConsumer<HopA>
    {
        public Task Consume(ConsumeContext<HopA> context) => Next(context, context.Message.RunId, context.Message.Left, toB: true);
    }

    public sealed class HopBConsumer : IConsumer<HopB>
    {
        public Task Consume(ConsumeContext<HopB> context) => Next(context, context.Message.RunId, context.Message.Left, toB: false);
    }
}
