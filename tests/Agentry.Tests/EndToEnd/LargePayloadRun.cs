using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Tests.Llm;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.EndToEnd;

/// Every service in this process, in embedded mode (in-memory bus, payloads on files) or on the real
/// RabbitMQ (a virtual host of its own) and Redis, with an agent whose model (the OpenAI-compatible
/// fake) calls run_javascript for `steps` steps, each returning a string of `outputBytes` bytes,
/// then answers. It records the size of every message the bus sends, by type.
public sealed class LargePayloadRun : IAsyncDisposable
{
    public const string Agent = "big-outputs";

    private readonly TempFolder _folder = new();
    private readonly OpenAiFake _fake = OpenAiFake.Start();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<string>> _ends = new();
    private string? _virtualHost;
    private IHost _host = null!;

    public TempFolder Folder => _folder;

    public OpenAiFake Model => _fake;

    public IServiceProvider Services => _host.Services;

    public string KeyPrefix { get; private set; } = "";

    /// The largest message of each type the bus sent or published, in bytes as the transport carried it.
    public ConcurrentDictionary<string, long> LargestMessage { get; } = new();

    /// The StepPlanned messages the saga published, for sending one again.
    public ConcurrentBag<StepPlanned> Steps { get; } = [];

    public static async Task<LargePayloadRun> StartAsync(bool distributed, TestRedis redis, int steps, int outputBytes, IDictionary<string, string?>? settings = null)
    {
        var run = new LargePayloadRun();
        await run.StartHostAsync(distributed, redis, steps, outputBytes, settings ?? new Dictionary<string, string?>());
        return run;
    }

    /// The JavaScript of step n: a string of outputBytes bytes that begins with "s{n}:", so every step's
    /// output differs (different content, different id; and no loop for the Evaluator to see).
    public static string Code(int step, int outputBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"'s{step}:' + 'x'.repeat({outputBytes - $"s{step}:".Length})");

    private async Task StartHostAsync(bool distributed, TestRedis redis, int steps, int outputBytes, IDictionary<string, string?> extra)
    {
        _folder.Write($"{Agent}.yaml", """
            description: Calls a tool that returns a large result, step after step
            instructions: Run the program you are given, then answer.
            model:
              provider: primary
              name: gpt-fake
            tools: [run_javascript]
            memory:
              context_tokens: 60000
            limits:
              max_steps: 600
              max_tokens: 100000000
              deadline: 30m
            """);
        // The model calls the tool until it has seen `steps` results, then answers; a summary request
        // (the context over its budget) is answered as such, so the script never goes out of step.
        _fake.WhenEmpty = request =>
        {
            var messages = request.Messages.EnumerateArray().ToList();
            if (messages.Count > 0 && messages[0].GetProperty("content").GetString()?.StartsWith("You summarize", StringComparison.Ordinal) == true)
            {
                return FakeReply.Answer("A summary of the earlier steps.");
            }

            var seen = messages.Count(m => m.GetProperty("role").GetString() == "tool");
            return seen >= steps
                ? FakeReply.Answer($"Done after {seen} steps.")
                : FakeReply.ToolCalls(new FakeToolCall($"call_{seen + 1}", "tools-run_javascript", JsonSerializer.Serialize(new { code = Code(seen + 1, outputBytes) })));
        };

        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Agents:Path"] = _folder.Path,
            ["Triggers:Schedules:Enabled"] = "false",
            ["Llm:DefaultProvider"] = "primary",
            ["Llm:Providers:primary:Kind"] = "openai-compatible",
            ["Llm:Providers:primary:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Providers:primary:MaxRetries"] = "0",
            // Replies cached in the shared Redis would answer one test's run with another's script.
            ["Llm:Cache:Enabled"] = "false",
            // The tool's own cap (16 KiB by default) would cut the output before the claim check sees it.
            ["Tools:MaxOutputChars"] = "4000000",
            ["Tools:CallTimeout"] = "00:01:00",
        };
        if (distributed)
        {
            KeyPrefix = redis.NewKeyPrefix();
            _virtualHost = $"agentry-payloads-{Guid.NewGuid():N}";
            Assert.That(await TestServers.RabbitMqCtlAsync("add_vhost", _virtualHost) is { ExitCode: 0 }, "rabbitmqctl could not add a virtual host");
            await TestServers.RabbitMqCtlAsync("set_permissions", "-p", _virtualHost, new Uri(TestServers.RabbitMqUrl).UserInfo.Split(':')[0], ".*", ".*", ".*");
            var broker = new UriBuilder(TestServers.RequireRabbitMq()) { Path = "/" + _virtualHost }.Uri;
            settings["ConnectionStrings:rabbitmq"] = broker.ToString();
            settings["ConnectionStrings:redis"] = TestServers.RequireRedis();
            settings["Planner:Redis:KeyPrefix"] = KeyPrefix;
            settings["Evaluator:Redis:KeyPrefix"] = KeyPrefix;
            settings["ToolExecutor:Redis:KeyPrefix"] = KeyPrefix;
            settings["Payloads:RedisKeyPrefix"] = KeyPrefix + "payload:";
            settings["Payloads:RedisRetention"] = "00:30:00";
        }

        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("AGENTRY_TEST_LOGS") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Information);
        }
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        // Every queue bound before the goal is published: a goal published sooner could find no binding.
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        _host = builder.Build();
        await _host.StartAsync();
        var bus = _host.Services.GetRequiredService<IBus>();
        bus.ConnectSendObserver(new SizeObserver(this));
        bus.ConnectPublishObserver(new SizeObserver(this));
        await bus.ConnectReceiveEndpoint(e =>
        {
            e.Handler<RunCompleted>(c => Ended(c.Message.RunId, $"{nameof(RunCompleted)}: {c.Message.Answer}"));
            e.Handler<RunFailed>(c => Ended(c.Message.RunId, $"{nameof(RunFailed)}: {c.Message.Reason}"));
            e.Handler<RunEscalated>(c => Ended(c.Message.RunId, $"{nameof(RunEscalated)}: {c.Message.Reason}"));
        }).Ready;
    }

    private Task Ended(Guid runId, string how)
    {
        _ends.GetOrAdd(runId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(how);
        return Task.CompletedTask;
    }

    /// Starts a run and returns its id and a task that completes with how it ended.
    public async Task<(Guid RunId, Task<string> End)> StartRunAsync(string goal = "Run the programs you are given.", JsonElement? input = null)
    {
        var runId = NewId.NextGuid();
        var end = _ends.GetOrAdd(runId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _host.Services.GetRequiredService<IBus>().Publish(new GoalReceived(runId, "default", Agent, goal, input));
        return (runId, end.Task);
    }

    public static async Task<string> EndOf(Task<string> end, TimeSpan within) =>
        await end.WaitAsync(within);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (_virtualHost is not null)
        {
            await TestServers.RabbitMqCtlAsync("delete_vhost", _virtualHost);
        }

        _fake.Dispose();
        _folder.Dispose();
    }

    private void Record<T>(SendContext<T> context)
        where T : class
    {
        var size = context.BodyLength ?? context.Serializer.GetMessageBody(context).GetBytes().Length;
        LargestMessage.AddOrUpdate(typeof(T).Name, size, (_, before) => Math.Max(before, size));
        if (context.Message is StepPlanned step)
        {
            Steps.Add(step);
        }
    }

    private sealed class SizeObserver(LargePayloadRun run) : ISendObserver, IPublishObserver
    {
        public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task PostSend<T>(SendContext<T> context) where T : class
        {
            run.Record(context);
            return Task.CompletedTask;
        }

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            run.Record(context);
            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
