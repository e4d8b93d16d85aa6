namespace Agentry.Llm;

/// Which model the Planner asks. No endpoint: the offline model. An endpoint: any
/// OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM, LM Studio, llama.cpp).
public sealed class LlmOptions
{
    public const string Section = "Llm";

    /// Base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1 (environment Llm__Endpoint).
    public Uri? Endpoint { get; set; }

    /// Model id sent to the endpoint when the agent names none (environment Llm__Model).
    public string? Model { get; set; }

    /// API key (environment Llm__ApiKey, or OPENAI_API_KEY). Never logged.
    public string? ApiKey { get; set; }

    /// Per-call timeout.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);
}

/// The model the process talks to, for display and for the step record.
public sealed record ChatModelInfo(string Name, bool IsOffline)
{
    public string Describe() => IsOffline
        ? $"{Name} (offline, deterministic: no LLM is called; set Llm__Endpoint and Llm__Model to use a real model)"
        : Name;
}
