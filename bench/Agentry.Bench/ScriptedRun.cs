using Agentry.Cli;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Agentry.Bench;

/// One long run on LargePayloadBench's scripted model with every service in this process: the agent
/// (run_javascript until the model answers), the host, and the run's end. The benches that measure a
/// single run (--large-payloads, --long-run) differ only in what they watch while it goes.
public sealed class ScriptedRun : IAsyncDisposable
{
    public const string Agent = "scripted";

    private readonly string _folder;
    private readonly IHost _host;
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptedRun(string folder, IHost host)
    {
        _folder = folder;
        _host = host;
    }

    public Guid RunId { get; } = NewId.NextGuid();

    public IServiceProvider Services => _host.Services;

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    /// "Completed after N steps: answer", "Failed after …" or "Escalated after …".
    public Task<string> Ended => _ended.Task;

    public static string RabbitMqUrl => Environment.GetEnvironmentVariable("RABBITMQ_URL") is { Length: > 0 } r ? r : "amqp://guest:guest@127.0.0.1:5672/";

    public static string RedisUrl => Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } d ? d : "127.0.0.1:6379";

    /// keyPrefix set: RabbitMQ and Redis (run state, ledgers and payloads under that prefix); null:
    /// the in-memory bus and saga. settings are added to (and override) the run's own.
    public static async Task<ScriptedRun> StartAsync(string modelUrl, string? keyPrefix, IDictionary<string, string?> settings)
    {
        var folder = Directory.CreateTempSubdirectory("agentry-bench-run-").FullName;
        File.WriteAllText(Path.Combine(folder, $"{Agent}.yaml"), """
            description: Runs a program step after step, for as long as its model asks
            instructions: Run the program you are given, then answer.
            model:
              provider: primary
              name: gpt-fake
            tools: [run_javascript]
            memory:
              context_tokens: 16000
            limits:
              max_steps: 1000
              max_tokens: 100000000
              deadline: 4h
            """);

        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = $"Data Source={Path.Combine(folder, "bench.db")}",
            ["Agents:Path"] = folder,
            ["Triggers:Schedules:Enabled"] = "false",
            ["Llm:DefaultProvider"] = "primary",
            ["Llm:Providers:primary:Kind"] = "openai-compatible",
            ["Llm:Providers:primary:Endpoint"] = modelUrl,
            ["Llm:Cache:Enabled"] = "false",
            ["Payloads:Directory"] = Path.Combine(folder, "payloads"),
        };
        if (keyPrefix is not null)
        {
            all["ConnectionStrings:rabbitmq"] = RabbitMqUrl;
            all["ConnectionStrings:redis"] = RedisUrl;
            all["Planner:Redis:KeyPrefix"] = keyPrefix;
            all["Evaluator:Redis:KeyPrefix"] = keyPrefix;
            all["ToolExecutor:Redis:KeyPrefix"] = keyPrefix;
            all["Payloads:RedisKeyPrefix"] = keyPrefix + "payload:";
        }

        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(all);
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        var run = new ScriptedRun(folder, builder.Build());
        await run._host.StartAsync();
        await run.Bus.ConnectReceiveEndpoint(e =>
        {
            e.Handler<RunCompleted>(c => run.End(c.Message.RunId, $"Completed after {c.Message.Steps} steps: {c.Message.Answer}"));
            e.Handler<RunFailed>(c => run.End(c.Message.RunId, $"Failed after {c.Message.Steps} steps: {c.Message.Reason}"));
            e.Handler<RunEscalated>(c => run.End(c.Message.RunId, $"Escalated after {c.Message.Steps} steps: {c.Message.Reason}"));
        }).Ready;
        return run;
    }

    public Task StartRunAsync() => Bus.Publish(new GoalReceived(RunId, "bench", Agent, "Run the programs you are given."));

    /// 0 when the run completed, 1 otherwise: the bench's exit code.
    public async Task<int> ExitCodeAsync() => (await Ended).StartsWith("Completed", StringComparison.Ordinal) ? 0 : 1;

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private Task End(Guid runId, string how)
    {
        if (runId == RunId)
        {
            _ended.TrySetResult(how);
        }

        return Task.CompletedTask;
    }
}
