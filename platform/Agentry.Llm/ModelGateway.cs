using System.Collections.Concurrent;
using System.Diagnostics;
using Agentry.Agents;
using Agentry.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// One model of an agent's chain: a provider and the model name asked of it.
public sealed record ModelRef(string Provider, string Name);

/// A reply and where it came from: the model that answered (as recorded on the step) and whether
/// it came from the response cache (then its usage is zero: no tokens were spent on it).
public sealed record ModelAnswer(ModelReply Reply, string Model, bool CacheHit);

/// No model of the chain answered. The message says what each one did, never the request or a key.
public sealed class ModelCallException(string message, Exception? inner = null) : Exception(message, inner);

/// Asks an agent's model: the primary, then each fallback in turn on a timeout, HTTP 429, 5xx or an
/// open circuit, each through its provider's resilience pipeline; deterministic requests go through
/// the response cache, and identical ones in flight at the same time make one provider call.
public sealed partial class ModelGateway(
    LlmProviders providers,
    ILlmResponseCache cache,
    IOptions<LlmOptions> options,
    ILogger<ModelGateway> logger)
{
    public const string CacheHitTag = "agentry.llm.cache_hit";
    public const string ResponseModelTag = "gen_ai.response.model";

    // Coalescing is per process: two Planners may still make the same call once each.
    private readonly ConcurrentDictionary<string, Task<CachedReply>> _inFlight = new(StringComparer.Ordinal);

    /// The models an agent asks, in order.
    public IReadOnlyList<ModelRef> Chain(ModelChoice? choice)
    {
        var primary = providers.Get(choice?.Provider);
        var chain = new List<ModelRef> { new(primary.Name, primary.ModelName(choice?.Name)) };
        foreach (var fallback in choice?.FallbackModels ?? [])
        {
            var provider = providers.Get(fallback.Provider);
            chain.Add(new ModelRef(provider.Name, provider.ModelName(fallback.Name)));
        }

        return chain;
    }

    /// How a model is named on a step: the bare name for the default provider, else provider/name.
    public string Describe(ModelRef model) =>
        model.Provider == providers.DefaultName || providers.Get(model.Provider).IsOffline ? model.Name : $"{model.Provider}/{model.Name}";

    public async Task<ModelAnswer> AskAsync(
        ModelChoice? choice,
        ChatHistory history,
        PromptExecutionSettings settings,
        Kernel? kernel,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<ModelRef> chain;
        try
        {
            chain = Chain(choice);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelCallException(e.Message, e);
        }

        var cacheable = options.Value.Cache.Enabled && (choice?.Cache ?? ResponseCacheKey.IsDeterministic(settings));
        var failures = new List<string>();
        for (var i = 0; i < chain.Count; i++)
        {
            var model = chain[i];
            var provider = providers.Get(model.Provider);
            var name = Describe(model);
            var cached = cacheable && !provider.IsOffline;
            try
            {
                var answer = cached
                    ? await AskCachedAsync(provider, model, name, history, settings, kernel, cancellationToken)
                    : new ModelAnswer(await CallAsync(provider, model, history, settings, kernel, cancellationToken), name, CacheHit: false);
                Activity.Current?.SetTag(CacheHitTag, answer.CacheHit);
                if (cached)
                {
                    (answer.CacheHit ? AgentryTelemetry.CacheHits : AgentryTelemetry.CacheMisses)
                        .Add(1, new KeyValuePair<string, object?>(AgentryTelemetry.Tags.GenAiRequestModel, name));
                }

                Activity.Current?.SetTag(ResponseModelTag, answer.Model);
                return answer;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ModelCallException)
            {
                var failure = ProviderResilience.Describe(e, provider.Timeout);
                failures.Add($"{name}: {failure}");
                if (i < chain.Count - 1 && ProviderResilience.ShouldFallBack(e))
                {
                    LogFallingBack(logger, name, Describe(chain[i + 1]), failure);
                    continue;
                }

                throw new ModelCallException(
                    chain.Count == 1 ? $"The model {failures[0]}" : $"No model of the chain answered: {string.Join("; ", failures)}.",
                    e);
            }
        }

        throw new UnreachableException("The chain always has a primary model.");
    }

    private async Task<ModelAnswer> AskCachedAsync(
        LlmProvider provider,
        ModelRef model,
        string name,
        ChatHistory history,
        PromptExecutionSettings settings,
        Kernel? kernel,
        CancellationToken cancellationToken)
    {
        var key = ResponseCacheKey.Compute(model.Provider, model.Name, history, kernel, settings);
        if (await TryGetAsync(key, cancellationToken) is { } hit)
        {
            return new ModelAnswer(hit.ToReply(), hit.Model, CacheHit: true);
        }

        while (true)
        {
            var leader = new TaskCompletionSource<CachedReply>(TaskCreationOptions.RunContinuationsAsynchronously);
            var inFlight = _inFlight.GetOrAdd(key, leader.Task);
            if (inFlight != leader.Task)
            {
                try
                {
                    // Someone is asking the same already: their reply, spent once, is ours too.
                    var shared = await inFlight.WaitAsync(cancellationToken);
                    return new ModelAnswer(shared.ToReply(), shared.Model, CacheHit: true);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The leader's caller gave up; ask again, perhaps as the leader.
                    continue;
                }
            }

            try
            {
                var reply = await CallAsync(provider, model, history, settings, kernel, cancellationToken);
                var cached = CachedReply.From(reply, name);
                await TrySetAsync(key, cached, cancellationToken);
                leader.SetResult(cached);
                return new ModelAnswer(reply, cached.Model, CacheHit: false);
            }
            catch (Exception e)
            {
                leader.SetException(e);
                _ = leader.Task.Exception; // observed here: waiters, if any, get it too
                throw;
            }
            finally
            {
                _inFlight.TryRemove(new KeyValuePair<string, Task<CachedReply>>(key, leader.Task));
            }
        }
    }

    private static async Task<ModelReply> CallAsync(
        LlmProvider provider,
        ModelRef model,
        ChatHistory history,
        PromptExecutionSettings settings,
        Kernel? kernel,
        CancellationToken cancellationToken)
    {
        var connector = provider.Connector(model.Name);
        var content = await provider.Pipeline.ExecuteAsync(
            async token => await connector.GetChatMessageContentAsync(history, settings, kernel, token),
            cancellationToken);
        return AgentChat.ReadReply(content);
    }

    // The cache saves tokens; it must never fail a step. A broken cache is a miss, and is logged.
    private async Task<CachedReply?> TryGetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await cache.GetAsync(key, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogCacheFailed(logger, "read", e.Message);
            return null;
        }
    }

    private async Task TrySetAsync(string key, CachedReply reply, CancellationToken cancellationToken)
    {
        try
        {
            await cache.SetAsync(key, reply, options.Value.Cache.Ttl, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogCacheFailed(logger, "write", e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} did not answer ({Failure}); asking {Next}.")]
    private static partial void LogFallingBack(ILogger logger, string model, string next, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The LLM response cache could not {Operation}: {Problem}. Going on without it.")]
    private static partial void LogCacheFailed(ILogger logger, string operation, string problem);
}
