using System.Collections.Concurrent;
using System.Collections.Frozen;
using Agentry.Agents;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.AzureOpenAI;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using Polly;

namespace Agentry.Llm;

/// A provider ready to be called: one connector per model name, one HttpClient and one resilience
/// pipeline for all of them (the limits are the provider's, whatever model is asked).
public sealed class LlmProvider : IDisposable
{
    private readonly ConcurrentDictionary<string, IChatCompletionService> _models = new(StringComparer.Ordinal);
    private readonly Func<string, IChatCompletionService> _create;
    private readonly HttpClient? _http;

    internal LlmProvider(string name, string kind, string? defaultModel, TimeSpan timeout, ResiliencePipeline pipeline, Func<string, IChatCompletionService> create, HttpClient? http)
    {
        Name = name;
        Kind = kind;
        DefaultModel = defaultModel;
        Timeout = timeout;
        Pipeline = pipeline;
        _create = create;
        _http = http;
    }

    public string Name { get; }

    public string Kind { get; }

    public bool IsOffline => Kind == LlmProviders.OfflineKind;

    public string? DefaultModel { get; }

    public TimeSpan Timeout { get; }

    public ResiliencePipeline Pipeline { get; }

    /// The model to ask: the one named, else the provider's default.
    public string ModelName(string? requested) =>
        IsOffline ? OfflineChatModel.ModelName
        : requested ?? DefaultModel ?? throw new InvalidOperationException(
            $"No model named for provider '{Name}': name one in the agent's model (model: {{ provider: {Name}, name: MODEL }}) or set Llm:Providers:{Name}:Model.");

    public IChatCompletionService Connector(string model) => _models.GetOrAdd(model, _create);

    public void Dispose() => _http?.Dispose();
}

/// Every provider the configuration declares, built and checked at start.
public sealed class LlmProviders : IDisposable
{
    public const string OfflineKind = "offline";
    public const string OpenAIKind = "openai";
    public const string AzureOpenAIKind = "azure-openai";
    public const string OpenAICompatibleKind = "openai-compatible";

    private readonly FrozenDictionary<string, LlmProvider> _providers;

    public LlmProviders(LlmOptions options, TimeProvider clock, ILoggerFactory? loggers = null)
    {
        loggers ??= NullLoggerFactory.Instance;
        var declared = new Dictionary<string, LlmProviderOptions>(options.Providers, StringComparer.Ordinal);
        if (options.Endpoint is not null)
        {
            if (declared.ContainsKey(ModelProviders.Default))
            {
                throw new InvalidOperationException(
                    $"Llm:Endpoint declares the provider '{ModelProviders.Default}', and Llm:Providers:{ModelProviders.Default} declares it again: keep one of the two.");
            }

            declared[ModelProviders.Default] = new LlmProviderOptions
            {
                Kind = OpenAICompatibleKind,
                Endpoint = options.Endpoint,
                Model = options.Model,
                Timeout = options.Timeout,
            };
        }

        if (!declared.ContainsKey(ModelProviders.Offline))
        {
            declared[ModelProviders.Offline] = new LlmProviderOptions { Kind = OfflineKind };
        }

        var logger = loggers.CreateLogger("Agentry.Llm.Providers");
        var shorthandKey = options.ApiKey ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        _providers = declared.ToFrozenDictionary(
            p => p.Key,
            p => Create(p.Key, p.Value, p.Key == ModelProviders.Default && options.Endpoint is not null ? shorthandKey : null, clock, logger, loggers),
            StringComparer.Ordinal);

        DefaultName = options.DefaultProvider switch
        {
            { } named when _providers.ContainsKey(named) => named,
            { } named => throw new InvalidOperationException(
                $"Llm:DefaultProvider is '{named}', which is not declared. Declared providers: {string.Join(", ", Names)}."),
            null when _providers.ContainsKey(ModelProviders.Default) => ModelProviders.Default,
            null when options.Providers.Count == 1 => options.Providers.Keys.Single(),
            null when options.Providers.Count == 0 => ModelProviders.Offline,
            _ => throw new InvalidOperationException(
                $"Several model providers are declared ({string.Join(", ", options.Providers.Keys.Order(StringComparer.Ordinal))}): set Llm:DefaultProvider to the one agents use when they name none."),
        };
    }

    public IEnumerable<string> Names => _providers.Keys.Order(StringComparer.Ordinal);

    /// The provider of agents whose model names none.
    public string DefaultName { get; }

    public LlmProvider Default => _providers[DefaultName];

    public LlmProvider Get(string? name) =>
        _providers.GetValueOrDefault(name ?? DefaultName)
        ?? throw new InvalidOperationException($"Unknown model provider '{name}'. Declared providers: {string.Join(", ", Names)} (Llm:Providers).");

    public void Dispose()
    {
        foreach (var provider in _providers.Values)
        {
            provider.Dispose();
        }
    }

    private static LlmProvider Create(string name, LlmProviderOptions options, string? shorthandKey, TimeProvider clock, ILogger logger, ILoggerFactory loggers)
    {
        var at = $"Llm:Providers:{name}";
        var kind = options.Kind?.Trim().ToLowerInvariant() switch
        {
            OpenAIKind or OpenAICompatibleKind or AzureOpenAIKind or OfflineKind => options.Kind!.Trim().ToLowerInvariant(),
            null or "" => throw new InvalidOperationException($"{at}:Kind is missing: use openai, azure-openai, openai-compatible or offline."),
            var other => throw new InvalidOperationException($"{at}:Kind '{other}' is not known: use openai, azure-openai, openai-compatible or offline."),
        };
        Check(options.Timeout > TimeSpan.Zero, $"{at}:Timeout must be more than zero.");
        Check(options.MaxRetries is >= 0 and <= 10, $"{at}:MaxRetries must be from 0 to 10.");
        Check(options.MaxConcurrency >= 0, $"{at}:MaxConcurrency must be 0 (no limit) or more.");
        Check(options.CircuitBreaker.FailureRatio is > 0 and <= 1, $"{at}:CircuitBreaker:FailureRatio must be more than 0 and at most 1.");
        Check(options.CircuitBreaker.MinimumThroughput >= 2, $"{at}:CircuitBreaker:MinimumThroughput must be at least 2.");
        Check(options.CircuitBreaker.SamplingDuration >= TimeSpan.FromMilliseconds(500), $"{at}:CircuitBreaker:SamplingDuration must be at least 0.5 seconds.");
        Check(options.CircuitBreaker.BreakDuration >= TimeSpan.FromMilliseconds(500), $"{at}:CircuitBreaker:BreakDuration must be at least 0.5 seconds.");

        if (kind == OfflineKind)
        {
            var offline = new OfflineChatModel();
            return new LlmProvider(name, kind, OfflineChatModel.ModelName, options.Timeout, ResiliencePipeline.Empty, _ => offline, http: null);
        }

        Check(options.Endpoint is null || options.Endpoint.Scheme is "http" or "https",
            $"{at}:Endpoint must be an http or https URL, for example http://localhost:11434/v1.");
        Check(kind == OpenAIKind || options.Endpoint is not null,
            $"{at}:Endpoint is required for a provider of kind {kind}" + (kind == AzureOpenAIKind ? ", e.g. https://RESOURCE.openai.azure.com/." : ", e.g. http://localhost:11434/v1."));
        var apiKey = ApiKey(at, options) ?? shorthandKey;
        Check(apiKey is not null || kind == OpenAICompatibleKind,
            $"{at} needs an API key: set {at}:ApiKeyEnv to the name of an environment variable that holds it, or {at}:ApiKeyFile to a file that holds it.");

        // The pipeline's timeout governs each attempt; the HttpClient must not cut a call short first.
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        var pipeline = ProviderResilience.Build(name, options, clock, logger);
        Func<string, IChatCompletionService> create = kind switch
        {
            OpenAIKind when options.Endpoint is null => model => new OpenAIChatCompletionService(model, apiKey!, httpClient: http, loggerFactory: loggers),
            AzureOpenAIKind => model => new AzureOpenAIChatCompletionService(
                options.Deployment ?? model, options.Endpoint!.ToString(), apiKey!, model, http, loggers, options.ApiVersion),
            // Local servers (Ollama, vLLM, LM Studio, llama.cpp) take any key; the connector wants one.
            _ => model => new OpenAIChatCompletionService(model, options.Endpoint!, apiKey ?? "not-needed", httpClient: http, loggerFactory: loggers),
        };

        return new LlmProvider(name, kind, options.Model, options.Timeout, pipeline, create, http);
    }

    // The key is read once, at start, and kept only inside the connector; errors name where it was
    // looked for, never what was found. Public for the embedding models, which reuse the providers.
    public static string? ApiKey(string at, LlmProviderOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ApiKeyEnv))
        {
            var value = Environment.GetEnvironmentVariable(options.ApiKeyEnv);
            Check(!string.IsNullOrWhiteSpace(value), $"{at}:ApiKeyEnv names the environment variable {options.ApiKeyEnv}, which is not set.");
            return value!.Trim();
        }

        if (!string.IsNullOrWhiteSpace(options.ApiKeyFile))
        {
            string value;
            try
            {
                value = File.ReadAllText(options.ApiKeyFile).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{at}:ApiKeyFile {options.ApiKeyFile} cannot be read: {e.GetType().Name}.");
            }

            Check(value.Length > 0, $"{at}:ApiKeyFile {options.ApiKeyFile} is empty.");
            return value;
        }

        return null;
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvalidOperationException(problem);
        }
    }
}
