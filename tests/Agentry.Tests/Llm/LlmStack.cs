using System.Collections.Concurrent;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Tests.Llm;

/// Agentry.Llm as a service registers it (AddAgentryLlm), from configuration written by the test,
/// with every log line of every level captured.
public sealed class LlmStack : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private LlmStack(ServiceProvider services, CapturedLogs logs)
    {
        _services = services;
        Logs = logs;
    }

    public CapturedLogs Logs { get; }

    public ModelGateway Gateway => _services.GetRequiredService<ModelGateway>();

    public IServiceProvider Services => _services;

    public static LlmStack Create(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var logs = new CapturedLogs();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddAgentryLlm(configuration);
        return new LlmStack(services.BuildServiceProvider(), logs);
    }

    /// A provider of the given kind at the fake, with small resilience numbers so tests run fast.
    public static (string Key, string? Value)[] Provider(string name, OpenAiFake fake, string kind = "openai-compatible", params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kind"] = kind,
            ["Endpoint"] = kind == "azure-openai" ? fake.Root.ToString() : fake.BaseUrl.ToString(),
            // Generous: the first call of a connector loads and compiles it on a busy machine.
            ["Timeout"] = "00:00:20",
            ["MaxRetries"] = "1",
            ["RetryDelay"] = "00:00:00.010",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings.Select(s => ($"Llm:Providers:{name}:{s.Key}", s.Value)).ToArray();
    }

    /// A planning call as the Planner makes it: the calculator offered, temperature as given.
    public Task<ModelAnswer> AskAsync(ModelChoice choice, string goal = "What is 6 * 7?", double temperature = 0, CancellationToken cancellationToken = default)
    {
        var history = AgentChat.ToChatHistory([new ContextMessage(ContextRole.System, "Use the tools."), new ContextMessage(ContextRole.User, goal)]);
        return Gateway.AskAsync(choice, history, ToolOffer.Settings(temperature), ToolOffer.KernelWith([ShippedTools.Catalog.Get("calculator")]), cancellationToken);
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}

/// Every log line, formatted, with its exception in full (message and stack), for tests that check
/// what reaches logs.
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string All => string.Join(Environment.NewLine, _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)} [{properties}] {exception}");
        }
    }
}
