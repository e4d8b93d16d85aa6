using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Memory;
using Microsoft.ML.Tokenizers;

namespace Agentry.Tests.Memory;

/// ContextTokens: the model's own encoding where Microsoft.ML.Tokenizers knows the model, o200k_base otherwise.
public sealed class When_context_tokens_are_counted
{
    private const string Text = "Ünïcödé and numbers 1234567 and code: for (var i = 0; i < n; i++) { sum += i; }";
    private static readonly ContextTokens Tokens = new();

    [Test]
    public void Should_use_the_encoding_of_a_known_model_and_o200k_for_any_other()
    {
        var cl100k = TiktokenTokenizer.CreateForEncoding("cl100k_base").CountTokens(Text);
        var o200k = TiktokenTokenizer.CreateForEncoding("o200k_base").CountTokens(Text);
        Assume.That(cl100k, Is.Not.EqualTo(o200k), "the sample must tell the two encodings apart");

        Assert.That(Tokens.For("gpt-4").CountTokens(Text), Is.EqualTo(cl100k));
        Assert.That(Tokens.For("gpt-4o-mini").CountTokens(Text), Is.EqualTo(o200k));
        Assert.That(Tokens.For(OfflineChatModel.ModelName).CountTokens(Text), Is.EqualTo(o200k));
        Assert.That(Tokens.For("llama3.1:8b").CountTokens(Text), Is.EqualTo(o200k));
        Assert.That(Tokens.For(null).CountTokens(Text), Is.EqualTo(o200k));
    }

    [Test]
    public void Should_count_tool_call_json_and_the_overhead_of_each_message()
    {
        var tokenizer = Tokens.For("gpt-4o");
        var arguments = JsonDocument.Parse("""{"url":"https://example.com/a/very/long/path?with=query&and=more"}""").RootElement.Clone();
        var call = new ContextMessage(ContextRole.Assistant, "", [new ToolCall("call_1", "http_get", arguments)]);
        var text = new ContextMessage(ContextRole.User, "hello");

        Assert.That(ContextTokens.Count(tokenizer, text), Is.EqualTo(ContextTokens.PerMessage + tokenizer.CountTokens("hello")));
        Assert.That(ContextTokens.Count(tokenizer, call), Is.GreaterThanOrEqualTo(ContextTokens.PerMessage + tokenizer.CountTokens(arguments.GetRawText())));
        Assert.That(ContextTokens.Count(tokenizer, [text, call]),
            Is.EqualTo(ContextTokens.PerReply + ContextTokens.Count(tokenizer, text) + ContextTokens.Count(tokenizer, call)));
    }
}
