using System.Collections.Concurrent;
using Agentry.Contracts;
using Microsoft.ML.Tokenizers;

namespace Agentry.Memory;

/// Counts a context the way the model will: with its tiktoken encoding (TiktokenTokenizer.CreateForModel
/// for the OpenAI model names it knows, o200k_base for any other, such as the offline model or a local
/// model whose tokenizer is not published in this form). One per process: loading an encoding takes
/// tens of milliseconds and megabytes, so each is loaded once and shared.
public sealed class ContextTokens
{
    /// What each message costs beyond its text: the role and the delimiters around it, as OpenAI's
    /// chat format spends them (3 to 4 tokens); the larger figure, so the count never falls short.
    public const int PerMessage = 4;

    /// Every reply is primed with the assistant's role.
    public const int PerReply = 3;

    public const string FallbackEncoding = "o200k_base";

    // Loaded with the service (MemoryRegistration resolves this at start), not by the first request;
    // once per process (Microsoft.ML.Tokenizers keeps the encodings it loads for CreateForModel too).
    private static readonly Lazy<Tokenizer> Fallback = new(() => TiktokenTokenizer.CreateForEncoding(FallbackEncoding));
    private readonly Tokenizer _fallback = Fallback.Value;
    private readonly ConcurrentDictionary<string, Lazy<Tokenizer>> _byModel = new(StringComparer.OrdinalIgnoreCase);

    /// The tokenizer for a model name (as sent to the provider, e.g. "gpt-4o-mini").
    public Tokenizer For(string? model) =>
        string.IsNullOrWhiteSpace(model) ? _fallback : _byModel.GetOrAdd(model, name => new Lazy<Tokenizer>(() => Create(name))).Value;

    private Tokenizer Create(string model)
    {
        try
        {
            return TiktokenTokenizer.CreateForModel(model);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            // Not an OpenAI model name, or one whose encoding's data package is not shipped here.
            return _fallback;
        }
    }

    public static int Count(Tokenizer tokenizer, string? text) =>
        string.IsNullOrEmpty(text) ? 0 : tokenizer.CountTokens(text);

    /// One message: its text, its tool calls as the model sees them (name, id and argument JSON) or
    /// the call id it answers, and the per-message overhead.
    public static int Count(Tokenizer tokenizer, ContextMessage message)
    {
        var tokens = PerMessage + Count(tokenizer, message.Content) + Count(tokenizer, message.CallId);
        foreach (var call in message.ToolCalls ?? [])
        {
            tokens += PerMessage + Count(tokenizer, call.CallId) + Count(tokenizer, call.Tool) + Count(tokenizer, call.Arguments.ValueKind == System.Text.Json.JsonValueKind.Undefined ? null : call.Arguments.GetRawText());
        }

        return tokens;
    }

    /// A whole context, as one request: every message and the reply's priming.
    public static int Count(Tokenizer tokenizer, IEnumerable<ContextMessage> messages) =>
        PerReply + messages.Sum(m => Count(tokenizer, m));

    /// The text cut to at most maxTokens tokens (at a token boundary), or the text itself when it fits.
    public static string Shorten(Tokenizer tokenizer, string text, int maxTokens)
    {
        var end = tokenizer.GetIndexByTokenCount(text, maxTokens, out _, out _);
        return end >= text.Length ? text : text[..end];
    }
}
