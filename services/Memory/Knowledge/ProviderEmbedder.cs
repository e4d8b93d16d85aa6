using System.ClientModel;
using System.ClientModel.Primitives;
using Agentry.Llm;
using Agentry.Agents;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using OpenAI;

namespace Agentry.Memory;

/// Llm:Embeddings: which provider (a name under Llm:Providers, or "default" for the Llm:Endpoint
/// shorthand) and model computes the knowledge base's embeddings. No provider: the offline embedder.
public sealed class EmbeddingOptions
{
    public const string Section = "Llm:Embeddings";

    public string? Provider { get; set; }

    public string? Model { get; set; }

    /// Asked of models that can shorten their vectors (text-embedding-3-*); the model's own size when absent.
    public int? Dimensions { get; set; }

    /// Texts per request.
    public int BatchSize { get; set; } = 64;
}

/// Embeddings from a configured provider through Semantic Kernel's OpenAI connector, which in SK
/// 1.8x is a Microsoft.Extensions.AI IEmbeddingGenerator (the older ITextEmbeddingGenerationService
/// is obsolete there). Each request gets the provider's Timeout; retries on 429 and 5xx are the
/// OpenAI client's own (with backoff); a failure surfaces to the ingest or the search that asked.
public sealed class ProviderEmbedder : ITextEmbedder, IDisposable
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly HttpClient _http;
    private readonly int _batchSize;

    public ProviderEmbedder(LlmOptions llm, EmbeddingOptions options)
    {
        var providerName = options.Provider!;
        var at = $"{EmbeddingOptions.Section}:Provider";
        Uri? endpoint;
        string? apiKey;
        string kind;
        TimeSpan timeout;
        if (providerName == ModelProviders.Default && llm.Endpoint is not null && !llm.Providers.ContainsKey(providerName))
        {
            (kind, endpoint, apiKey, timeout) = (LlmProviders.OpenAICompatibleKind, llm.Endpoint, llm.ApiKey ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"), llm.Timeout);
        }
        else if (llm.Providers.TryGetValue(providerName, out var provider))
        {
            kind = provider.Kind?.Trim().ToLowerInvariant() ?? "";
            (endpoint, apiKey, timeout) = (provider.Endpoint, LlmProviders.ApiKey($"Llm:Providers:{providerName}", provider), provider.Timeout);
        }
        else
        {
            throw new InvalidOperationException(
                $"{at} is '{providerName}', which is not declared under Llm:Providers (declared: {string.Join(", ", llm.Providers.Keys.Order(StringComparer.Ordinal))}{(llm.Endpoint is null ? "" : ", default")}).");
        }

        if (kind is not (LlmProviders.OpenAIKind or LlmProviders.OpenAICompatibleKind))
        {
            throw new InvalidOperationException($"{at} names '{providerName}', of kind '{kind}': embeddings are computed by openai and openai-compatible providers only.");
        }

        if (string.IsNullOrWhiteSpace(options.Model))
        {
            throw new InvalidOperationException($"{EmbeddingOptions.Section}:Model is required with {at}: name the embedding model, e.g. text-embedding-3-small.");
        }

        if (options.BatchSize is < 1 or > 2048)
        {
            throw new InvalidOperationException($"{EmbeddingOptions.Section}:BatchSize must be from 1 to 2048.");
        }

        _http = new HttpClient { Timeout = timeout };
        var client = new OpenAIClient(
            new ApiKeyCredential(apiKey ?? "not-needed"),
            new OpenAIClientOptions { Endpoint = endpoint, Transport = new HttpClientPipelineTransport(_http) });
#pragma warning disable SKEXP0010 // the embedding generator registration is marked experimental in SK 1.8x
        var kernel = Kernel.CreateBuilder().AddOpenAIEmbeddingGenerator(options.Model, client, options.Dimensions).Build();
#pragma warning restore SKEXP0010
        _generator = kernel.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        _batchSize = options.BatchSize;
        Name = $"{providerName}:{options.Model}" + (options.Dimensions is { } d ? $":{d}" : "");
    }


    public string Name { get; }

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var vectors = new List<float[]>(texts.Count);
        foreach (var batch in texts.Chunk(_batchSize))
        {
            var embeddings = await _generator.GenerateAsync(batch, cancellationToken: cancellationToken);
            if (embeddings.Count != batch.Length)
            {
                throw new InvalidOperationException($"The embedding model {Name} returned {embeddings.Count} vectors for {batch.Length} texts.");
            }

            // Normalised here whatever the model does, so that a dot product is the cosine everywhere.
            vectors.AddRange(embeddings.Select(e => Vectors.Normalize(e.Vector.ToArray())));
        }

        return vectors;
    }

    public void Dispose()
    {
        _generator.Dispose();
        _http.Dispose();
    }
}
