namespace Agentry.Llm;

/// Which models the runtime may ask. Providers are declared under Llm:Providers:NAME; the older
/// shorthand (Llm:Endpoint, Llm:Model, Llm:ApiKey) still declares one OpenAI-compatible provider
/// named "default". No provider at all: the offline model answers.
public sealed class LlmOptions
{
    public const string Section = "Llm";

    /// Base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1 (environment Llm__Endpoint).
    /// Shorthand for a provider named "default".
    public Uri? Endpoint { get; set; }

    /// Model id sent to the endpoint when the agent names none (environment Llm__Model).
    public string? Model { get; set; }

    /// API key of the shorthand provider (environment Llm__ApiKey, or OPENAI_API_KEY). Never logged.
    public string? ApiKey { get; set; }

    /// Per-call timeout of the shorthand provider.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// The provider an agent gets when its model names none. Default: "default" when the shorthand
    /// is set, the only declared provider when there is one, else the offline model.
    public string? DefaultProvider { get; set; }

    public Dictionary<string, LlmProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);

    public LlmCacheOptions Cache { get; set; } = new();
}

/// One model provider, Llm:Providers:NAME.
public sealed class LlmProviderOptions
{
    /// openai, azure-openai, openai-compatible (Ollama, vLLM, LM Studio, llama.cpp server) or offline.
    public string? Kind { get; set; }

    /// Base URL: for openai-compatible e.g. http://localhost:11434/v1; for azure-openai the resource,
    /// e.g. https://NAME.openai.azure.com/; for openai optional (https://api.openai.com/v1).
    public Uri? Endpoint { get; set; }

    /// The model asked when the agent names none.
    public string? Model { get; set; }

    /// Azure OpenAI: the deployment to call; by default the model name the agent asks for.
    public string? Deployment { get; set; }

    /// Azure OpenAI: the api-version query parameter; by default the connector's.
    public string? ApiVersion { get; set; }

    /// The environment variable that holds the API key (e.g. OPENAI_API_KEY).
    public string? ApiKeyEnv { get; set; }

    /// A file whose content is the API key (e.g. a mounted Kubernetes secret).
    public string? ApiKeyFile { get; set; }

    /// Time for one attempt, from request to complete reply.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// Retries after the first attempt, on a timeout, HTTP 429, 5xx or a lost connection.
    public int MaxRetries { get; set; } = 2;

    /// First backoff delay (exponential, with jitter) when the provider sends no Retry-After.
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// A Retry-After longer than this is not waited for: the call fails over to the next model.
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// Calls in flight at once to this provider (0: no limit); more wait in a queue of the same size.
    public int MaxConcurrency { get; set; } = 16;

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// When to stop calling a failing provider for a while (Polly's advanced circuit breaker).
public sealed class CircuitBreakerOptions
{
    public bool Enabled { get; set; } = true;

    /// Share of failed calls in the sampling window that opens the circuit.
    public double FailureRatio { get; set; } = 0.5;

    /// Calls in the window before the ratio is judged at all.
    public int MinimumThroughput { get; set; } = 5;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// How long the circuit stays open before one trial call is let through.
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// The response cache, Llm:Cache.
public sealed class LlmCacheOptions
{
    public bool Enabled { get; set; } = true;

    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    /// Prefix of the cache's keys in Redis.
    public string KeyPrefix { get; set; } = "agentry:llm-cache:";
}

/// The default model the process talks to, for display and for callers without an agent.
public sealed record ChatModelInfo(string Name, bool IsOffline)
{
    public string Describe() => IsOffline
        ? $"{Name} (offline, deterministic: no LLM is called; set Llm__Endpoint and Llm__Model, or Llm__Providers, to use a real model)"
        : Name;
}
