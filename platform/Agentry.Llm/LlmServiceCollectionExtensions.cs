using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Llm;

public static class LlmServiceCollectionExtensions
{
    /// The chat model the Planner uses: an OpenAI-compatible endpoint when Llm:Endpoint is set,
    /// the offline model otherwise. Swapping one for the other is configuration, never code.
    public static IServiceCollection AddAgentryLlm(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryModelPrices();
        services.AddOptions<LlmOptions>()
            .BindConfiguration(LlmOptions.Section)
            .Validate(o => o.Endpoint is null || !string.IsNullOrWhiteSpace(o.Model),
                "Llm:Model is required when Llm:Endpoint is set: name the model to ask (environment Llm__Model).")
            .Validate(o => o.Endpoint is null || o.Endpoint.Scheme is "http" or "https",
                "Llm:Endpoint must be an http or https URL, for example http://localhost:11434/v1.")
            .ValidateOnStart();

        var endpoint = configuration[$"{LlmOptions.Section}:{nameof(LlmOptions.Endpoint)}"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            services.AddSingleton(new ChatModelInfo(OfflineChatModel.ModelName, IsOffline: true));
            services.AddSingleton<IChatCompletionService, OfflineChatModel>();
            return services;
        }

        services.AddHttpClient(nameof(LlmOptions));
        services.AddSingleton(sp => new ChatModelInfo(sp.GetRequiredService<IOptions<LlmOptions>>().Value.Model!, IsOffline: false));
        services.AddSingleton<IChatCompletionService>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LlmOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(LlmOptions));
            http.Timeout = options.Timeout;
            var apiKey = options.ApiKey ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY") ?? "not-needed";
            return new OpenAIChatCompletionService(options.Model!, options.Endpoint!, apiKey, httpClient: http, loggerFactory: sp.GetService<ILoggerFactory>());
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
