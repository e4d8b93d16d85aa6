using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Agentry.Bench;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Agents;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Runs per second and orchestration time per step, over RabbitMQ and Redis, with the offline model
// (zero latency): every service hosted in this process on the distributed transport, against the
// same ReAct loop run with Semantic Kernel alone. Usage:
//   dotnet run -c Release --project bench/Agentry.Bench -- [--runs-per-level N] [--levels 1,10,100] [--warmup RUNS] [--in-memory]
// The in-memory transport's own floor: Agentry.Bench --in-memory-floor (InMemoryFloor.cs).
// Needs RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672/) and REDIS_URL (default 127.0.0.1:6379).
if (args.Contains("--llm-cache"))
{
    return await LlmCacheBench.RunAsync(args);
}

if (args.Contains("--sandbox"))
{
    return await SandboxBench.RunAsync(args);
}

if (args.Contains("--in-memory-floor"))
{
    return await InMemoryFloor.RunAsync(args);
}

if (args.Contains("--large-payloads"))
{
    return await LargePayloadBench.RunAsync(args);
}

if (args.Contains("--long-run"))
{
    return await LongRunBench.RunAsync(args);
}

if (args.Contains("--knowledge"))
{
    return await KnowledgeBench.RunAsync(args);
}

var levels = BenchArgs.Value(args, "--levels")?.Split(',').Select(int.Parse).ToArray() ?? [1, 10, 100];
var runsPerLevel = int.Parse(BenchArgs.Value(args, "--runs-per-level") ?? "300", CultureInfo.InvariantCulture);
var rabbitMq = Environment.GetEnvironmentVariable("RABBITMQ_URL") is { Length: > 0 } r ? r : "amqp://guest:guest@127.0.0.1:5672/";
var redis = Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } d ? d : "127.0.0.1:6379";
var folder = Directory.CreateTempSubdirectory("agentry-bench-").FullName;
var goal = "What is 17 * 23 + 4?";

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var inMemory = args.Contains("--in-memory");
if (!inMemory)
{
    builder.Configuration["ConnectionStrings:rabbitmq"] = rabbitMq;
    builder.Configuration["ConnectionStrings:redis"] = redis;
}

builder.Configuration["ConnectionStrings:sqlite"] = $"Data Source={Path.Combine(folder, "bench.db")}";
builder.Configuration["Agents:Path"] = FindAgents();
// Every run is the tenant 'bench''s: its limit must admit the highest level, or runs over it fail.
builder.Configuration["Tenants:Limits:bench:MaxConcurrentRuns"] = levels.Max().ToString(CultureInfo.InvariantCulture);
builder.Services.AddSingleton<Outcomes>();
builder.Services.AddEmbeddedAgentry(builder.Configuration, bus => bus.AddConsumer<OutcomeConsumer>());
using var host = builder.Build();
await host.StartAsync();
var bus = host.Services.GetRequiredService<IBus>();
var outcomes = host.Services.GetRequiredService<Outcomes>();
var agent = host.Services.GetRequiredService<AgentCatalog>().Find("assistant")!;

Console.WriteLine(inMemory
    ? $"Agentry bench: {Environment.ProcessorCount} cores, in-memory transport and saga (no broker), {runsPerLevel} runs per level, goal \"{goal}\""
    : $"Agentry bench: {Environment.ProcessorCount} cores, RabbitMQ {new Uri(rabbitMq).Host}, Redis {redis}, {runsPerLevel} runs per level, goal \"{goal}\"");
// Warm-up: connections, queues and the JIT. Tiered compilation keeps a core busy for tens of
// seconds after start in a process this size (seen in a profile), so a short warm-up measured the JIT.
var warmUp = int.Parse(BenchArgs.Value(args, "--warmup") ?? "300", CultureInfo.InvariantCulture);
await RunLevelAsync(Math.Min(10, levels.Max()), warmUp, print: false);
var rows = new List<string>();
var cpuRows = new List<string>();
foreach (var concurrency in levels)
{
    var agentry = await RunLevelAsync(concurrency, runsPerLevel, print: true);
    var baseline = await BaselineLevelAsync(concurrency, runsPerLevel);
    rows.Add(Row(concurrency, agentry, baseline));
    cpuRows.Add(CpuRow(concurrency, agentry));
}

Console.WriteLine();
Console.WriteLine("| concurrent runs | Agentry runs/s | Agentry steps/s | step time p50 / p99 (ms) | added per step p50 / p99 (ms) | SK-only runs/s | SK-only step p50 (ms) | runs/s ratio |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("CPU per step (ms): this process holds every service and the load; broker is every beam.smp, Redis every redis-server on the machine.");
Console.WriteLine("| concurrent runs | services (this process) | broker | Redis | total |");
Console.WriteLine("|---|---|---|---|---|");
cpuRows.ForEach(Console.WriteLine);
await host.StopAsync();
Directory.Delete(folder, recursive: true);
return 0;

async Task<Level> RunLevelAsync(int concurrency, int runs, bool print)
{
    var durations = new ConcurrentBag<(TimeSpan Duration, int Steps)>();
    var failures = 0;
    var clock = Stopwatch.StartNew();
    var cpuBefore = CpuMeter.Now();
    using var gate = new SemaphoreSlim(concurrency);
    var tasks = Enumerable.Range(0, runs).Select(async _ =>
    {
        await gate.WaitAsync();
        try
        {
            var runId = NewId.NextGuid();
            var done = outcomes.Expect(runId);
            var started = Stopwatch.GetTimestamp();
            await bus.Publish(new GoalReceived(runId, "bench", agent.Name, goal));
            var end = await done.WaitAsync(TimeSpan.FromMinutes(2));
            if (end.Completed)
            {
                durations.Add((Stopwatch.GetElapsedTime(started), end.Steps));
            }
            else
            {
                Interlocked.Increment(ref failures);
            }
        }
        finally
        {
            gate.Release();
        }
    });
    await Task.WhenAll(tasks);
    var level = new Level(clock.Elapsed, durations.ToList(), failures, CpuMeter.Now() - cpuBefore);
    if (print)
    {
        Console.WriteLine($"  {concurrency,3} concurrent: {level.RunsPerSecond:0.0} runs/s, {level.StepsPerSecond:0.0} steps/s, step p50 {level.StepP(50):0.00} ms, p99 {level.StepP(99):0.00} ms, {failures} not completed, CPU per step {level.CpuPerStep(c => c.Agentry):0.00} ms here + {level.CpuPerStep(c => c.Broker):0.00} broker + {level.CpuPerStep(c => c.Redis):0.00} Redis");
    }

    return level;
}

async Task<Level> BaselineLevelAsync(int concurrency, int runs)
{
    var durations = new ConcurrentBag<(TimeSpan Duration, int Steps)>();
    var clock = Stopwatch.StartNew();
    using var gate = new SemaphoreSlim(concurrency);
    await Task.WhenAll(Enumerable.Range(0, runs).Select(async _ =>
    {
        await gate.WaitAsync();
        try
        {
            durations.Add((await Task.Run(() => Baseline.RunAsync(goal, agent.Instructions, agent.Limits.MaxSteps)), 2));
        }
        finally
        {
            gate.Release();
        }
    }));
    return new Level(clock.Elapsed, durations.ToList(), 0, null);
}

static string Row(int concurrency, Level agentry, Level baseline) =>
    string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {agentry.RunsPerSecond:0.0} | {agentry.StepsPerSecond:0.0} | {agentry.StepP(50):0.00} / {agentry.StepP(99):0.00} | {agentry.StepP(50) - baseline.StepP(50):0.00} / {agentry.StepP(99) - baseline.StepP(99):0.00} | {baseline.RunsPerSecond:0.0} | {baseline.StepP(50):0.000} | {baseline.RunsPerSecond / agentry.RunsPerSecond:0}x |");

static string CpuRow(int concurrency, Level level) =>
    string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {level.CpuPerStep(c => c.Agentry):0.00} | {level.CpuPerStep(c => c.Broker):0.00} | {level.CpuPerStep(c => c.Redis):0.00} | {level.CpuPerStep(c => c.Agentry + c.Broker + c.Redis):0.00} |");

static string FindAgents()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (Directory.Exists(Path.Combine(dir.FullName, "agents")) && File.Exists(Path.Combine(dir.FullName, "Agentry.sln")))
        {
            return Path.Combine(dir.FullName, "agents");
        }
    }

    throw new DirectoryNotFoundException("agents/ not found");
}

namespace Agentry.Bench
{
    public sealed record Level(TimeSpan Elapsed, List<(TimeSpan Duration, int Steps)> Runs, int Failures, CpuMeter.Sample? Cpu)
    {
        public double CpuPerStep(Func<CpuMeter.Sample, TimeSpan> part) =>
            Cpu is null ? double.NaN : part(Cpu).TotalMilliseconds / Math.Max(1, Runs.Sum(r => r.Steps));

        public double RunsPerSecond => Runs.Count / Elapsed.TotalSeconds;

        public double StepsPerSecond => Runs.Sum(r => r.Steps) / Elapsed.TotalSeconds;

        /// Per-step time of a run (its duration over its steps), at the given percentile over runs.
        public double StepP(int percentile)
        {
            var perStep = Runs.Select(r => r.Duration.TotalMilliseconds / r.Steps).Order().ToList();
            return perStep.Count == 0 ? double.NaN : perStep[Math.Min(perStep.Count - 1, (int)Math.Ceiling(percentile / 100.0 * perStep.Count) - 1)];
        }
    }

    public sealed record RunEnd(bool Completed, int Steps);

    public sealed class Outcomes
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<RunEnd>> _runs = new();

        public Task<RunEnd> Expect(Guid runId) =>
            _runs.GetOrAdd(runId, _ => new TaskCompletionSource<RunEnd>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void End(Guid runId, RunEnd end)
        {
            if (_runs.TryRemove(runId, out var run))
            {
                run.TrySetResult(end);
            }
        }
    }

    public sealed class OutcomeConsumer(Outcomes outcomes) : IConsumer<RunCompleted>, IConsumer<RunFailed>
    {
        public Task Consume(ConsumeContext<RunCompleted> context)
        {
            outcomes.End(context.Message.RunId, new RunEnd(true, context.Message.Steps));
            return Task.CompletedTask;
        }

        public Task Consume(ConsumeContext<RunFailed> context)
        {
            outcomes.End(context.Message.RunId, new RunEnd(false, context.Message.Steps));
            return Task.CompletedTask;
        }
    }
}
