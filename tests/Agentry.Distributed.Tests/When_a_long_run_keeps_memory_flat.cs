using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Tests;
using Agentry.Tests.Llm;

namespace Agentry.Distributed.Tests;

/// Issue 22's flat memory: one long run, every service its own process on RabbitMQ and Redis, a
/// zero-latency scripted model (the offline model answers as soon as it has a tool result, so it
/// never runs long) calling run_javascript at every step with a different result of about 2 kB. Each
/// service's managed heap is read from its own /metrics (the System.Runtime meter) every half second.
/// The full 1,000-step run is `bench --long-run` (docs/performance.md).
public sealed class When_a_long_run_keeps_memory_flat
{
    private const int Steps = 250;
    private const int Budget = 4_000;
    private const int RecentSteps = 4;

    /// How far the floor of a service's heap may rise from the first quarter of the run after warm-up
    /// to the last: what the GC leaves between collections wandered by up to 3.8 MB here; 64 kB kept per
    /// step (a leak injected once into Memory's context consumer) raised Memory's by 9.1 MB and failed.
    private const double ToleranceMegabytes = 5;

    private int _latestStep;

    [Test]
    public async Task Should_keep_every_services_heap_flat_and_every_context_within_its_budget()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-long-run", Guid.NewGuid().ToString("N"))).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "long-run.yaml"), $"""
            description: Runs a program step after step, for as long as its model asks
            instructions: Run the program you are given, then answer.
            model:
              provider: scripted
              name: gpt-fake
            tools: [run_javascript]
            memory:
              context_tokens: {Budget}
              recent_steps: {RecentSteps}
            limits:
              max_steps: 1000
              max_tokens: 100000000
              deadline: 30m
            """);
        using var fake = OpenAiFake.Start();
        fake.WhenEmpty = Script;
        await using var receiver = await OtlpReceiver.StartAsync();
        var environment = new Dictionary<string, string>(receiver.Environment)
        {
            ["Agents__Path"] = folder,
            ["Llm__Providers__scripted__Kind"] = "openai-compatible",
            ["Llm__Providers__scripted__Endpoint"] = fake.BaseUrl.ToString(),
            ["Llm__Providers__scripted__MaxRetries"] = "0",
            ["Llm__Cache__Enabled"] = "false",
        };
        await using var deployment = await Deployment.StartAsync(environment);
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        using var gateway = await deployment.GatewayClientAsync();

        using var started = await gateway.PostAsJsonAsync("/runs", new { agent = "long-run", goal = "Run the programs you are given." });
        started.EnsureSuccessStatusCode();
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        // Sampled until the run ends, each sample tagged with the step the run had reached.
        var samples = new ConcurrentDictionary<string, List<(int Step, double Megabytes)>>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            while (!sampling.IsCancellationRequested)
            {
                var step = Volatile.Read(ref _latestStep);
                foreach (var process in deployment.Processes)
                {
                    // The Gateway's /metrics asks for a key, as its other routes do.
                    if (await HeapAsync(process.Service == "Gateway" ? gateway : http, process) is { } megabytes)
                    {
                        samples.GetOrAdd(process.Service, _ => []).Add((step, megabytes));
                    }
                }

                await Task.Delay(500, CancellationToken.None);
            }
        });

        var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromMinutes(8), () => deployment.Logs);
        await sampling.CancelAsync();
        await sampler;
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("steps").GetInt32(), Is.EqualTo(Steps));

        // (b) Every context Memory sent stayed within the budget, and read a bounded part of the run.
        var contexts = await ContextSpansAsync(receiver, runId);
        Assert.That(contexts.Select(c => c.Step), Is.EquivalentTo(Enumerable.Range(1, Steps)), "one context per step");
        Assert.That(contexts.Where(c => c.Tokens > Budget || c.Budget != Budget), Is.Empty, "contexts over memory.context_tokens");
        Assert.That(contexts.Max(c => c.SummarizedSteps), Is.GreaterThan(Steps - 10), "the run was long enough to be compacted");
        var stepsRead = contexts.Where(c => c.Step > 50).Max(c => c.StepsRead);
        Assert.That(stepsRead, Is.LessThanOrEqualTo(RecentSteps + 2), "steps Memory read back for one context, after step 50");

        // (a) After warm-up, the floor of each service's heap does not rise.
        Assert.That(samples.Keys, Is.EquivalentTo(Deployment.Services), "every service's heap was read");
        var report = new System.Text.StringBuilder();
        var rising = new List<string>();
        foreach (var (service, all) in samples.OrderBy(s => s.Key))
        {
            var measured = all.Where(s => s.Step >= 80).ToList();
            Assert.That(measured, Has.Count.GreaterThanOrEqualTo(12), $"{service}: too few heap samples after warm-up");
            var quarter = measured.Count / 4;
            var first = measured.Take(quarter).Min(s => s.Megabytes);
            var last = measured.Skip(measured.Count - quarter).Min(s => s.Megabytes);
            report.AppendLine(CultureInfo.InvariantCulture, $"{service}: floor {first:0.0} MB (steps {measured[0].Step} to {measured[quarter - 1].Step}) -> {last:0.0} MB (steps {measured[^quarter].Step} to {measured[^1].Step}), {measured.Count} samples");
            if (last - first > ToleranceMegabytes)
            {
                rising.Add(service);
            }
        }

        TestContext.Progress.WriteLine(report.ToString());
        Assert.That(rising, Is.Empty, $"heaps that rose by more than {ToleranceMegabytes} MB:\n{report}");
    }

    /// The model: run_javascript with a program whose output (about 2 kB of words) differs at every
    /// step, until it has seen Steps - 1 results, then the answer; a summary request gets a summary.
    private FakeReply Script(FakeRequest request)
    {
        var messages = request.Messages.EnumerateArray().ToList();
        if (messages.Count > 0 && messages[0].GetProperty("content").GetString()?.StartsWith("You summarize", StringComparison.Ordinal) == true)
        {
            return FakeReply.Answer("Earlier steps each ran a program that listed words.");
        }

        // The step is read from the latest result ("s{n}:"): once compacted, older results are in a summary.
        var latest = messages.LastOrDefault(m => m.GetProperty("role").GetString() == "tool");
        var seen = latest.ValueKind == JsonValueKind.Object
            && System.Text.RegularExpressions.Regex.Match(latest.GetProperty("content").GetString() ?? "", @"\bs(\d+):") is { Success: true } match
            ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : 0;
        if (seen >= Steps - 1)
        {
            return FakeReply.Answer($"Done after {seen} programs.");
        }

        var step = seen + 1;
        Volatile.Write(ref _latestStep, step);
        var code = string.Create(CultureInfo.InvariantCulture, $"'s{step}: ' + Array.from({{ length: 330 }}, (_, i) => 'w' + (({step} * 31 + i * 7) % 10007)).join(' ')");
        return FakeReply.ToolCalls(new FakeToolCall($"call_{step}", "tools-run_javascript", JsonSerializer.Serialize(new { code })));
    }

    private sealed record ContextSpan(int Step, int Tokens, int Budget, int SummarizedSteps, int StepsRead);

    private static async Task<List<ContextSpan>> ContextSpansAsync(OtlpReceiver receiver, Guid runId)
    {
        List<ContextSpan> spans = [];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            spans = receiver.Spans
                .Where(s => s.Name == "assemble_context" && s.Tag("agentry.run_id") == runId.ToString())
                .Select(s => new ContextSpan(Int(s, "agentry.step"), Int(s, "agentry.context.tokens"), Int(s, "agentry.context.budget"),
                    Int(s, "agentry.context.summarized_steps"), Int(s, "agentry.context.steps_read")))
                .DistinctBy(s => s.Step)
                .ToList();
            if (spans.Count >= Steps)
            {
                break;
            }

            await receiver.NextExportAsync().WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return spans;

        static int Int(ReceivedSpan span, string tag) => int.Parse(span.Tag(tag) ?? "-1", CultureInfo.InvariantCulture);
    }

    /// The managed heap as of the last collection, every generation: the System.Runtime meter's
    /// dotnet.gc.last_collection.heap.size on the service's Prometheus endpoint.
    private static async Task<double?> HeapAsync(HttpClient http, ServiceProcess process)
    {
        try
        {
            var text = await http.GetStringAsync(new Uri(process.BaseAddress, "/metrics"));
            var bytes = text.Split('\n')
                .Where(line => line.StartsWith("dotnet_gc_last_collection_heap_size_bytes{", StringComparison.Ordinal))
                .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
            return bytes > 0 ? bytes / 1_048_576.0 : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
