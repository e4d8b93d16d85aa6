using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Bench;

/// The response cache's worth: a model call answered from the cache against one that goes to a model
/// with a set latency (a local OpenAI-compatible server that waits, then answers), and the same
/// agent run made twice, the second answered from the cache. Embedded (in-memory) pipeline.
///   dotnet run -c Release --project bench/Agentry.Bench -- --llm-cache [--latency-ms 200] [--calls 50]
public static class LlmCacheBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var latency = TimeSpan.FromMilliseconds(int.Parse(BenchArgs.Value(args, "--latency-ms") ?? "200", CultureInfo.InvariantCulture));
        var calls = int.Parse(BenchArgs.Value(args, "--calls") ?? "50", CultureInfo.InvariantCulture);
        var model = new SlowModel(latency);
        await using var server = await model.StartAsync();
        var folder = Directory.CreateTempSubdirectory("agentry-bench-llm-").FullName;

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["ConnectionStrings:sqlite"] = $"Data Source={Path.Combine(folder, "bench.db")}";
        builder.Configuration["Agents:Path"] = FindAgents();
        builder.Configuration["Llm:Endpoint"] = model.BaseUrl + "v1";
        builder.Configuration["Llm:Model"] = "bench-model";
        builder.Services.AddSingleton<Ends>();
        builder.Services.AddEmbeddedAgentry(builder.Configuration, bus => bus.AddConsumer<EndConsumer>());
        using var host = builder.Build();
        await host.StartAsync();
        var gateway = host.Services.GetRequiredService<ModelGateway>();
        var agent = host.Services.GetRequiredService<AgentCatalog>().Find("assistant")!;

        Console.WriteLine($"LLM cache bench: {Environment.ProcessorCount} cores, model latency {latency.TotalMilliseconds} ms, {calls} calls each");
        await AskAsync(gateway, agent, "warm-up"); // JIT, connection

        var misses = new List<double>();
        for (var i = 0; i < calls; i++)
        {
            misses.Add(await TimeAsync(() => AskAsync(gateway, agent, $"What is {i} * 7?"), expectHit: false));
        }

        var hits = new List<double>();
        for (var i = 0; i < calls; i++)
        {
            hits.Add(await TimeAsync(() => AskAsync(gateway, agent, $"What is {i} * 7?"), expectHit: true));
        }

        var bus = host.Services.GetRequiredService<IBus>();
        var ends = host.Services.GetRequiredService<Ends>();
        const string goal = "What is 17 * 23 + 4?";
        await RunAsync(bus, ends, agent.Name, "What is 2 + 2?"); // warm-up of the pipeline, another goal
        var requestsBefore = model.Requests;
        var first = await RunAsync(bus, ends, agent.Name, goal);
        var requestsFirst = model.Requests - requestsBefore;
        var second = await RunAsync(bus, ends, agent.Name, goal);
        var requestsSecond = model.Requests - requestsBefore - requestsFirst;

        Console.WriteLine();
        Console.WriteLine("| model call | p50 (ms) | p99 (ms) | mean (ms) |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(Row("miss (asks the model)", misses));
        Console.WriteLine(Row("hit (from the cache)", hits));
        Console.WriteLine();
        Console.WriteLine("| same run | duration (ms) | model requests | tokens in / out |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| first | {first.Duration:0} | {requestsFirst} | {first.Usage.InputTokens} / {first.Usage.OutputTokens} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| repeated | {second.Duration:0} | {requestsSecond} | {second.Usage.InputTokens} / {second.Usage.OutputTokens} |"));
        await host.StopAsync();
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    private static Task<ModelAnswer> AskAsync(ModelGateway gateway, AgentDefinition agent, string goal)
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(ToolFunctions.CreatePlugin([Agentry.Tools.CalculatorTool.Descriptor]));
        var settings = new OpenAIPromptExecutionSettings { Temperature = 0, FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false) };
        var history = AgentChat.ToChatHistory([new ContextMessage(ContextRole.System, agent.Instructions), new ContextMessage(ContextRole.User, goal)]);
        return gateway.AskAsync(agent.Model, history, settings, kernel, CancellationToken.None);
    }

    private static async Task<double> TimeAsync(Func<Task<ModelAnswer>> ask, bool expectHit)
    {
        var started = Stopwatch.GetTimestamp();
        var answer = await ask();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return answer.CacheHit == expectHit
            ? elapsed
            : throw new InvalidOperationException($"Expected a cache {(expectHit ? "hit" : "miss")}, got the other.");
    }

    private static async Task<(double Duration, TokenUsage Usage)> RunAsync(IBus bus, Ends ends, string agent, string goal)
    {
        var runId = NewId.NextGuid();
        var done = ends.Expect(runId);
        var started = Stopwatch.GetTimestamp();
        await bus.Publish(new GoalReceived(runId, "bench", agent, goal));
        var end = await done.WaitAsync(TimeSpan.FromMinutes(1));
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, end.Usage);
    }

    private static string Row(string what, List<double> times)
    {
        var sorted = times.Order().ToList();
        double P(int p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"| {what} | {P(50):0.000} | {P(99):0.000} | {sorted.Average():0.000} |");
    }

    private static string FindAgents()
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

    /// An OpenAI-compatible chat-completions server that waits a set time, then asks for the
    /// calculator on the first turn (with the goal's arithmetic) and answers with the tool's output
    /// once it is in the conversation.
    private sealed class SlowModel(TimeSpan latency)
    {
        private int _requests;

        public string BaseUrl { get; private set; } = "";

        public int Requests => Volatile.Read(ref _requests);

        public async Task<WebApplication> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref _requests);
                using var body = await JsonDocument.ParseAsync(request.Body);
                await Task.Delay(latency);
                return Results.Content(Reply(body.RootElement).ToJsonString(), "application/json");
            });
            await app.StartAsync();
            BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
            return app;
        }

        private static JsonObject Reply(JsonElement request)
        {
            var messages = request.GetProperty("messages").EnumerateArray().ToList();
            var toolResult = messages.LastOrDefault(m => m.GetProperty("role").GetString() == "tool");
            var goal = messages.Last(m => m.GetProperty("role").GetString() == "user").GetProperty("content").ToString();
            var message = toolResult.ValueKind == JsonValueKind.Object
                ? new JsonObject { ["role"] = "assistant", ["content"] = toolResult.GetProperty("content").ToString() }
                : new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_1",
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = "tools-calculator",
                            ["arguments"] = new JsonObject { ["expression"] = OfflineChatModel.ArithmeticIn(goal) ?? "1 + 1" }.ToJsonString(),
                        },
                    }),
                };
            return new JsonObject
            {
                ["id"] = "chatcmpl-bench",
                ["object"] = "chat.completion",
                ["created"] = 0,
                ["model"] = request.GetProperty("model").GetString(),
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = message,
                    ["finish_reason"] = toolResult.ValueKind == JsonValueKind.Object ? "stop" : "tool_calls",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 120, ["completion_tokens"] = 12, ["total_tokens"] = 132 },
            };
        }
    }

    public sealed class Ends
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<RunCompleted>> _runs = new();

        public Task<RunCompleted> Expect(Guid runId) =>
            _runs.GetOrAdd(runId, _ => new TaskCompletionSource<RunCompleted>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void End(RunCompleted end) =>
            _runs.GetOrAdd(end.RunId, _ => new TaskCompletionSource<RunCompleted>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(end);
    }

    public sealed class EndConsumer(Ends ends) : IConsumer<RunCompleted>
    {
        public Task Consume(ConsumeContext<RunCompleted> context)
        {
            ends.End(context.Message);
            return Task.CompletedTask;
        }
    }
}
