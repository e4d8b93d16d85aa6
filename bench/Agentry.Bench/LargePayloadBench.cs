using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Cli;
using Agentry.Contracts;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Agentry.Bench;

/// Issue 22's acceptance for large payloads: one run of `--steps` (500) steps whose every tool result is
/// `--output-bytes` (1,000,000) bytes, every service in this process on RabbitMQ and Redis, with the
/// default bounds (Payloads:MaxMessageBytes 8 MiB, MaxStateBytes 1 MiB). The model is a local
/// OpenAI-compatible endpoint that asks for run_javascript until it has seen that many results.
/// Prints the largest message of each type as the transport carried it, the largest run state in
/// Redis, the payloads stored and the wall time. Usage:
///   dotnet run -c Release --project bench/Agentry.Bench -- --large-payloads [--steps 500] [--output-bytes 1000000]
public static class LargePayloadBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var steps = int.Parse(BenchArgs.Value(args, "--steps") ?? "500", CultureInfo.InvariantCulture);
        var outputBytes = int.Parse(BenchArgs.Value(args, "--output-bytes") ?? "1000000", CultureInfo.InvariantCulture);
        var prefix = $"agentry-bench:{Guid.NewGuid():N}:";

        await using var model = await StartModelAsync(steps, outputBytes);
        await using var run = await ScriptedRun.StartAsync(model.Url, prefix, new Dictionary<string, string?>
        {
            ["Tools:MaxOutputChars"] = (outputBytes * 2).ToString(CultureInfo.InvariantCulture),
            ["Payloads:RedisRetention"] = "02:00:00",
        });
        var host = run.Services;
        var bus = run.Bus;
        var sizes = new SizeObserver();
        bus.ConnectSendObserver(sizes);
        bus.ConnectPublishObserver(sizes);

        Console.WriteLine($"Agentry large-payload bench: {steps} steps, each tool result {outputBytes:N0} bytes, RabbitMQ {new Uri(ScriptedRun.RabbitMqUrl).Host}, Redis {ScriptedRun.RedisUrl}, {Environment.ProcessorCount} cores");
        var redis = host.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var clock = Stopwatch.StartNew();
        await run.StartRunAsync();
        var stateKey = $"{prefix}saga:agentrun:{run.RunId:D}";
        long largestState = 0;
        while (!run.Ended.IsCompleted)
        {
            largestState = Math.Max(largestState, (long)await redis.ExecuteAsync("HSTRLEN", stateKey, "data"));
            await Task.WhenAny(run.Ended, Task.Delay(10));
        }

        var how = await run.Ended;
        var wall = clock.Elapsed;
        largestState = Math.Max(largestState, (long)await redis.ExecuteAsync("HSTRLEN", stateKey, "data"));
        var server = host.GetRequiredService<IConnectionMultiplexer>().GetServer(host.GetRequiredService<IConnectionMultiplexer>().GetEndPoints()[0]);
        var payloadKeys = server.Keys(pattern: prefix + "payload:*", pageSize: 1000).ToList();
        long stored = 0;
        foreach (var key in payloadKeys)
        {
            stored += await redis.StringLengthAsync(key);
        }

        Console.WriteLine($"run: {how}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wall time: {wall.TotalSeconds:0.0} s ({wall.TotalMilliseconds / steps:0} ms per step)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest run state in Redis: {largestState:N0} bytes (bound Payloads:MaxStateBytes 1,048,576)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"payloads in Redis: {payloadKeys.Count} keys, {stored:N0} bytes"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest model request body: {model.LargestRequest:N0} bytes; model calls: {model.Calls}"));
        Console.WriteLine("largest message of each type, as sent (bound Payloads:MaxMessageBytes 8,388,608):");
        Console.WriteLine("| message | largest (bytes) |");
        Console.WriteLine("|---|---|");
        foreach (var (type, size) in sizes.Largest.OrderByDescending(m => m.Value))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {type} | {size:N0} |"));
        }

        foreach (var key in payloadKeys)
        {
            await redis.KeyDeleteAsync(key);
        }

        return await run.ExitCodeAsync();
    }

    private sealed class SizeObserver : ISendObserver, IPublishObserver
    {
        public ConcurrentDictionary<string, long> Largest { get; } = new();

        private Task Record<T>(SendContext<T> context)
            where T : class
        {
            var size = context.BodyLength ?? context.Serializer.GetMessageBody(context).GetBytes().Length;
            Largest.AddOrUpdate(typeof(T).Name, size, (_, before) => Math.Max(before, size));
            return Task.CompletedTask;
        }

        public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task PostSend<T>(SendContext<T> context) where T : class => Record(context);

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context) where T : class => Record(context);

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }

    /// The model: a chat-completions endpoint that calls run_javascript (a string of outputBytes bytes,
    /// different at each step) until the request holds `steps` tool results, then answers; a summary
    /// request (the context over its budget) gets a short summary.
    internal sealed class Model(WebApplication app) : IAsyncDisposable
    {
        private long _largest;
        private int _calls;

        public string Url { get; set; } = "";

        public long LargestRequest => Interlocked.Read(ref _largest);

        public int Calls => _calls;

        public async Task<IResult> HandleAsync(HttpRequest request, int steps, int outputBytes, bool words)
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            Interlocked.Increment(ref _calls);
            var size = body.Length;
            long before;
            do
            {
                before = Interlocked.Read(ref _largest);
            }
            while (size > before && Interlocked.CompareExchange(ref _largest, size, before) != before);

            using var json = JsonDocument.Parse(body.ToArray());
            var messages = json.RootElement.GetProperty("messages").EnumerateArray().ToList();
            var summary = messages.Count > 0 && messages[0].TryGetProperty("content", out var first) && first.ValueKind == JsonValueKind.String
                && first.GetString()!.StartsWith("You summarize", StringComparison.Ordinal);
            // The step is read from the latest result ("s{n}:..."), not by counting results: once the
            // context is compacted, the older ones are in a summary.
            var latest = messages.LastOrDefault(m => m.GetProperty("role").GetString() == "tool");
            var seen = latest.ValueKind == JsonValueKind.Object && System.Text.RegularExpressions.Regex.Match(latest.GetProperty("content").GetString() ?? "", @"\bs(\d+):x") is { Success: true } match
                ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
                : 0;
            var message = new JsonObject { ["role"] = "assistant" };
            if (summary || seen >= steps)
            {
                message["content"] = summary ? "Earlier steps each ran a program that returned a long string of x." : $"Done after {seen} steps.";
            }
            else
            {
                var step = seen + 1;
                var code = words
                    // About outputBytes of words that differ from step to step, as a page or a listing would be.
                    ? string.Create(CultureInfo.InvariantCulture, $"'s{step}:x ' + Array.from({{ length: {outputBytes / 6} }}, (_, i) => 'w' + (({step} * 31 + i * 7) % 10007)).join(' ')")
                    : string.Create(CultureInfo.InvariantCulture, $"'s{step}:' + 'x'.repeat({outputBytes - $"s{step}:".Length})");
                message["content"] = null;
                message["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = $"call_{step}",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "tools-run_javascript", ["arguments"] = JsonSerializer.Serialize(new { code }) },
                });
            }

            var completion = new JsonObject
            {
                ["id"] = $"chatcmpl-bench-{_calls}",
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = "gpt-fake",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = message["tool_calls"] is null ? "stop" : "tool_calls" }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
            };
            return Results.Text(completion.ToJsonString(), "application/json");
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    internal static async Task<Model> StartModelAsync(int steps, int outputBytes, bool words = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var model = new Model(app);
        app.MapPost("/v1/chat/completions", (HttpRequest request) => model.HandleAsync(request, steps, outputBytes, words));
        await app.StartAsync();
        model.Url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1";
        return model;
    }
}
