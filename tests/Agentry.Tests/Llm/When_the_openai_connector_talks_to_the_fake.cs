using Agentry.Contracts;
using Agentry.Llm;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Tests.Llm;

/// Proves the fake speaks the wire format the real Semantic Kernel OpenAI connector parses.
public sealed class When_the_openai_connector_talks_to_the_fake
{
    private OpenAiFake _fake = null!;
    private HttpClient _http = null!;

    [SetUp]
    public void Start()
    {
        _fake = OpenAiFake.Start();
        _http = new HttpClient();
    }

    [TearDown]
    public void Stop()
    {
        _http.Dispose();
        _fake.Dispose();
    }

    [Test]
    public async Task Should_parse_a_tool_call_and_then_a_final_answer()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_abc", "calculator", """{"expression":"6 * 7"}"""))
            .ReplyWithAnswer("42", promptTokens: 30, completionTokens: 2);
        var model = new OpenAIChatCompletionService("gpt-fake", _fake.BaseUrl, "sk-test", httpClient: _http);
        var kernel = ToolOffer.KernelWith([ShippedTools.Catalog.Get("calculator")]);
        var settings = ToolOffer.Settings(temperature: 0);
        var history = AgentChat.ToChatHistory([new ContextMessage(ContextRole.User, "What is 6 * 7?")]);

        var first = AgentChat.ReadReply(await model.GetChatMessageContentAsync(history, settings, kernel));

        Assert.That(first.FinalAnswer, Is.Null);
        Assert.That(first.ToolCalls.Single().CallId, Is.EqualTo("call_abc"));
        Assert.That(first.ToolCalls.Single().Tool, Is.EqualTo("calculator"));
        Assert.That(first.ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));

        var second = AgentChat.ReadReply(await model.GetChatMessageContentAsync(history, settings, kernel));

        Assert.That(second.FinalAnswer, Is.EqualTo("42"));
        Assert.That(second.Usage, Is.EqualTo(new TokenUsage(30, 2)));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var request = _fake.Requests[0];
        Assert.That(request.Path, Is.EqualTo("/v1/chat/completions"));
        Assert.That(request.Model, Is.EqualTo("gpt-fake"));
        Assert.That(request.ToolNames, Is.EqualTo(new[] { "tools-calculator" }));
        Assert.That(request.Headers["Authorization"], Is.EqualTo("Bearer sk-test"));
    }

    [Test]
    public void Should_surface_a_scripted_server_error_as_an_http_failure()
    {
        _fake.ReplyWithServerError(503);
        var model = new OpenAIChatCompletionService("gpt-fake", _fake.BaseUrl, "sk-test", httpClient: _http);

        var error = Assert.ThrowsAsync<HttpOperationException>(() =>
            model.GetChatMessageContentAsync(new ChatHistory("hi"), new OpenAIPromptExecutionSettings()));

        Assert.That(error!.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.ServiceUnavailable));
        // Semantic Kernel turns the OpenAI SDK's own retries off when it is handed an HttpClient, so
        // retries are Agentry's to decide: exactly one request reached the server.
        Assert.That(_fake.RequestCount, Is.EqualTo(1));
    }
}
