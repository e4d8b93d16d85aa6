using Agentry.ServiceDefaults;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using StackExchange.Redis;

namespace Agentry.Llm;

public static class LlmServiceCollectionExtensions
{
    /// The model providers (Llm:Providers, or the Llm:Endpoint shorthand, or the offline model), the
    /// ModelGateway that asks an agent's chain of models, and the response cache (Redis when the
    /// connection string `redis` is set, this process's memory otherwise). IChatCompletionService is
    /// the default provider's default model behind its resilience pipeline, for callers without an agent.
    public static IServiceCollection AddAgentryLlm(this IServiceCollection services, IConfiguration configuration)
    {
        // The Planner and the Evaluator both need it; in one process, the first registration serves both.
        if (services.Any(s => s.ServiceType == typeof(ModelGateway)))
        {
            return services;
        }

        services.AddAgentryModelPrices();
        services.AddOptions<LlmOptions>()
            .BindConfiguration(LlmOptions.Section)
            .Validate(o => o.Endpoint is null || !string.IsNullOrWhiteSpace(o.Model),
                "Llm:Model is required when Llm:Endpoint is set: name the model to ask (environment Llm__Model).")
            .Validate(o => o.Endpoint is null || o.Endpoint.Scheme is "http" or "https",
                "Llm:Endpoint must be an http or https URL, for example http://localhost:11434/v1.")
            .Validate(o => o.Cache.Ttl > TimeSpan.Zero, "Llm:Cache:Ttl must be more than zero, e.g. 01:00:00.")
            .ValidateOnStart();

        services.AddSingleton(sp => new LlmProviders(
            sp.GetRequiredService<IOptions<LlmOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()));
        services.ResolveAtStart<LlmProviders>();
        services.AddSingleton(sp =>
        {
            var provider = sp.GetRequiredService<LlmProviders>().Default;
            return new ChatModelInfo(provider.DefaultModel ?? $"{provider.Name} (model named by each agent)", provider.IsOffline);
        });

        if (RedisRegistration.HasRedis(configuration))
        {
            services.AddAgentryRedis(configuration);
            services.AddSingleton<ILlmResponseCache>(sp => new RedisResponseCache(
                sp.GetRequiredService<IConnectionMultiplexer>(),
                sp.GetRequiredService<IOptions<LlmOptions>>().Value.Cache.KeyPrefix));
        }
        else
        {
            services.AddSingleton<ILlmResponseCache>(_ => new MemoryResponseCache(new MemoryCache(new MemoryCacheOptions { SizeLimit = 10_000 })));
        }

        services.AddSingleton<ModelGateway>();
        services.AddSingleton<IChatCompletionService>(sp =>
        {
            var provider = sp.GetRequiredService<LlmProviders>().Default;
            var connector = provider.Connector(provider.ModelName(null));
            return provider.IsOffline ? connector : new ResilientChatCompletionService(connector, provider);
        });
        return services;
    }

    /// The price table (Llm:Prices), which the Planner and the Evaluator price their calls with.
    public static IServiceCollection AddAgentryModelPrices(this IServiceCollection services)
    {
        services.AddOptions<ModelPriceOptions>()
            .BindConfiguration(LlmOptions.Section)
            .Validate(o => o.Prices.Values.All(p => p.InputPerMillion >= 0 && p.OutputPerMillion >= 0),
                "Llm:Prices: a price must not be negative (US dollars per million tokens).")
            .ValidateOnStart();
        services.TryAddSingleton<ModelPrices>();
        return services;
    }
}

/// A connector behind its provider's resilience pipeline (retries, breaker, timeout, concurrency).
public sealed class ResilientChatCompletionService(IChatCompletionService inner, LlmProvider provider) : IChatCompletionService
{
    public IReadOnlyDictionary<string, object?> Attributes => inner.Attributes;

    public async Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        CancellationToken cancellationToken = default) =>
        await provider.Pipeline.ExecuteAsync(
            async token => await inner.GetChatMessageContentsAsync(chatHistory, executionSettings, kernel, token),
            cancellationToken);

    // A stream cannot be retried once it has started; it goes straight to the connector.
    public IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        CancellationToken cancellationToken = default) =>
        inner.GetStreamingChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken);
}
