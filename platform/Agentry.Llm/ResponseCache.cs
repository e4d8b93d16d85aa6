using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using StackExchange.Redis;

namespace Agentry.Llm;

/// A model's reply as the cache keeps it: what the step needs, and which model gave it. No usage:
/// a hit costs nothing.
public sealed record CachedReply(string? Thought, IReadOnlyList<ToolCall> ToolCalls, string? FinalAnswer, string Model)
{
    public static CachedReply From(ModelReply reply, string model) => new(reply.Thought, reply.ToolCalls, reply.FinalAnswer, model);

    public ModelReply ToReply() => new(Thought, ToolCalls, FinalAnswer, TokenUsage.None);
}

public interface ILlmResponseCache
{
    Task<CachedReply?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, CachedReply reply, TimeSpan ttl, CancellationToken cancellationToken);
}

/// The embedded cache: this process's memory.
public sealed class MemoryResponseCache(IMemoryCache memory) : ILlmResponseCache
{
    public Task<CachedReply?> GetAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(memory.TryGetValue(key, out CachedReply? reply) ? reply : null);

    public Task SetAsync(string key, CachedReply reply, TimeSpan ttl, CancellationToken cancellationToken)
    {
        memory.Set(key, reply, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = ttl, Size = 1 });
        return Task.CompletedTask;
    }
}

/// The distributed cache: one Redis string per key, expiring with the TTL, shared by every Planner.
public sealed class RedisResponseCache(IConnectionMultiplexer redis, string keyPrefix) : ILlmResponseCache
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<CachedReply?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = await redis.GetDatabase().StringGetAsync(keyPrefix + key).WaitAsync(cancellationToken);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize<CachedReply>(value.ToString(), Json);
    }

    public Task SetAsync(string key, CachedReply reply, TimeSpan ttl, CancellationToken cancellationToken) =>
        redis.GetDatabase().StringSetAsync(keyPrefix + key, JsonSerializer.Serialize(reply, Json), ttl).WaitAsync(cancellationToken);
}

/// The cache key: a SHA-256 of everything that shapes the reply (the model asked, the messages, the
/// tools offered and the sampling settings), written out in one canonical JSON form.
public static class ResponseCacheKey
{
    public static string Compute(string provider, string model, ChatHistory history, Kernel? kernel, PromptExecutionSettings? settings)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("provider", provider);
            json.WriteString("model", model);
            json.WriteStartArray("messages");
            foreach (var message in history)
            {
                json.WriteStartObject();
                json.WriteString("role", message.Role.Label);
                json.WriteStartArray("items");
                foreach (var item in message.Items)
                {
                    WriteItem(json, item);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("tools");
            var functions = kernel?.Plugins.GetFunctionsMetadata() ?? [];
            foreach (var function in functions.OrderBy(f => f.PluginName + "-" + f.Name, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("name", $"{function.PluginName}-{function.Name}");
                json.WriteString("description", function.Description);
                json.WriteStartArray("parameters");
                foreach (var parameter in function.Parameters)
                {
                    json.WriteStartObject();
                    json.WriteString("name", parameter.Name);
                    json.WriteString("description", parameter.Description);
                    json.WriteBoolean("required", parameter.IsRequired);
                    json.WriteString("schema", parameter.Schema?.ToString());
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteSettings(json, settings);
            json.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    private static void WriteItem(Utf8JsonWriter json, KernelContent item)
    {
        json.WriteStartObject();
        switch (item)
        {
            case TextContent text:
                json.WriteString("text", text.Text);
                break;
            case FunctionCallContent call:
                json.WriteString("call", $"{call.PluginName}-{call.FunctionName}");
                json.WriteString("id", call.Id);
                json.WriteString("arguments", JsonSerializer.Serialize(call.Arguments?.OrderBy(a => a.Key, StringComparer.Ordinal).ToDictionary(a => a.Key, a => a.Value)));
                break;
            case FunctionResultContent result:
                json.WriteString("result", $"{result.PluginName}-{result.FunctionName}");
                json.WriteString("id", result.CallId);
                json.WriteString("value", result.Result?.ToString());
                break;
            default:
                // Images, audio: the cache has no stable text form for them, so such requests never match.
                json.WriteString("other", Guid.NewGuid().ToString());
                break;
        }

        json.WriteEndObject();
    }

    private static void WriteSettings(Utf8JsonWriter json, PromptExecutionSettings? settings)
    {
        json.WriteStartObject("settings");
        if (settings is OpenAIPromptExecutionSettings openAi)
        {
            WriteNumber(json, "temperature", openAi.Temperature);
            WriteNumber(json, "top_p", openAi.TopP);
            WriteNumber(json, "presence_penalty", openAi.PresencePenalty);
            WriteNumber(json, "frequency_penalty", openAi.FrequencyPenalty);
            WriteNumber(json, "max_tokens", openAi.MaxTokens);
            WriteNumber(json, "seed", openAi.Seed);
            json.WriteString("stop", openAi.StopSequences is null ? null : string.Join("\u0000", openAi.StopSequences));
            json.WriteString("response_format", openAi.ResponseFormat switch
            {
                null => null,
                string s => s,
                Type t => t.FullName,
                var other => JsonSerializer.Serialize(other),
            });
            json.WriteString("system_prompt", openAi.ChatSystemPrompt);
        }

        json.WriteString("function_choice", settings?.FunctionChoiceBehavior?.GetType().Name);
        foreach (var (key, value) in settings?.ExtensionData?.OrderBy(e => e.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, object>>())
        {
            json.WriteString("x-" + key, JsonSerializer.Serialize(value));
        }

        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    /// Only a request that asks for the same reply every time may get a stored one.
    public static bool IsDeterministic(PromptExecutionSettings? settings) => settings switch
    {
        OpenAIPromptExecutionSettings openAi => openAi.Temperature == 0,
        { ExtensionData: { } data } when data.TryGetValue("temperature", out var t) => Convert.ToDouble(t, System.Globalization.CultureInfo.InvariantCulture) == 0,
        _ => false,
    };
}
