using System.Diagnostics;
using Agentry.Llm;
using Agentry.Agents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Tests.Llm;

/// The ModelGateway over the real Semantic Kernel connectors, against the OpenAI-compatible fake.
public sealed class When_a_model_is_asked_through_its_provider
{
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start() => _fake = OpenAiFake.Start();

    [TearDown]
    public void Stop() => _fake.Dispose();

    private static readonly ModelChoice Fake = new("gpt-fake", Provider: "fake", Cache: false);

    [Test]
    public async Task Should_read_a_tool_call_then_a_final_answer_and_record_the_model()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"6 * 7"}"""))
            .ReplyWithAnswer("42", promptTokens: 40, completionTokens: 3);
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var first = await llm.AskAsync(Fake);
        var second = await llm.AskAsync(Fake);

        Assert.That(first.Reply.ToolCalls.Single().Tool, Is.EqualTo("calculator"));
        Assert.That(first.Reply.ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(first.Model, Is.EqualTo("gpt-fake"), "the only declared provider is the default one: the bare model name");
        Assert.That(second.Reply.FinalAnswer, Is.EqualTo("42"));
        Assert.That(second.Reply.Usage, Is.EqualTo(new Agentry.Contracts.TokenUsage(40, 3)));
        Assert.That(second.CacheHit, Is.False);
        Assert.That(_fake.Requests.Select(r => r.Model), Is.EqualTo(new[] { "gpt-fake", "gpt-fake" }));
    }

    [Test]
    public async Task Should_call_azure_openai_at_the_deployment_with_the_api_key_header()
    {
        Environment.SetEnvironmentVariable("AGENTRY_TEST_AZURE_KEY", "azure-key-123");
        _fake.ReplyWithAnswer("hello from azure");
        await using var llm = LlmStack.Create(LlmStack.Provider("azure", _fake, "azure-openai", ("ApiKeyEnv", "AGENTRY_TEST_AZURE_KEY"), ("Deployment", "my-gpt4o")));

        var answer = await llm.AskAsync(new ModelChoice("gpt-4o", Provider: "azure", Cache: false));

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("hello from azure"));
        var request = _fake.Requests.Single();
        Assert.That(request.Path, Is.EqualTo("/openai/deployments/my-gpt4o/chat/completions"));
        Assert.That(request.Headers["api-key"], Is.EqualTo("azure-key-123"));
    }

    [Test]
    public async Task Should_retry_a_server_error_and_then_answer()
    {
        _fake.ReplyWithServerError(500).ReplyWithAnswer("after the retry");
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var answer = await llm.AskAsync(Fake);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("after the retry"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task Should_fail_with_the_status_and_the_providers_message_when_the_retries_run_out()
    {
        _fake.ReplyWithServerError(500).ReplyWithServerError(502);
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Fake));

        Assert.That(error!.Message, Does.StartWith("The model gpt-fake: HTTP 502 BadGateway (The server had an error"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2), "one attempt and MaxRetries=1 retry");
    }

    [Test]
    public async Task Should_not_retry_a_client_error()
    {
        _fake.Enqueue(FakeReply.Status(400, "Invalid 'messages': empty."));
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Fake));

        Assert.That(error!.Message, Is.EqualTo("The model gpt-fake: HTTP 400 BadRequest (Invalid 'messages': empty.)"));
        Assert.That(_fake.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Should_give_up_on_a_call_that_outlives_the_timeout()
    {
        _fake.Enqueue(FakeReply.Answer("too late").After(TimeSpan.FromSeconds(5)));
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake, more: [("Timeout", "00:00:00.300"), ("MaxRetries", "0")]));
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Fake));

        Assert.That(error!.Message, Is.EqualTo("The model gpt-fake: no reply within the timeout of 0.3s"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Should_say_clearly_when_the_reply_is_not_json()
    {
        _fake.ReplyWithMalformedJson();
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Fake));

        Assert.That(error!.Message, Does.StartWith("The model gpt-fake: its reply is not a readable chat completion (malformed JSON: "));
        Assert.That(_fake.RequestCount, Is.EqualTo(1), "a malformed reply is not retried");
    }

    [Test]
    public async Task Should_wait_as_long_as_retry_after_says_before_trying_again()
    {
        _fake.ReplyWithRateLimit(TimeSpan.FromMilliseconds(700)).ReplyWithAnswer("ok");
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));
        var clock = Stopwatch.StartNew();

        var answer = await llm.AskAsync(Fake);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("ok"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var gap = _fake.Requests[1].ReceivedAt - _fake.Requests[0].ReceivedAt;
        Assert.That(gap, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(650)), "the retry came after Retry-After, not after the 10 ms backoff");
    }

    [Test]
    public async Task Should_honour_a_retry_after_given_in_whole_seconds()
    {
        _fake.Enqueue(FakeReply.RateLimited(TimeSpan.FromSeconds(1)) with { Headers = new Dictionary<string, string> { ["Retry-After"] = "1" } })
            .ReplyWithAnswer("ok");
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var answer = await llm.AskAsync(Fake);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("ok"));
        Assert.That(_fake.Requests[1].ReceivedAt - _fake.Requests[0].ReceivedAt, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950)));
    }

    [Test]
    public async Task Should_keep_calls_in_flight_within_the_providers_limit_and_refuse_what_cannot_queue()
    {
        _fake.WhenEmpty = _ => FakeReply.Answer("ok").After(TimeSpan.FromMilliseconds(400));
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake, more: [("MaxConcurrency", "1"), ("MaxRetries", "0")]));
        await llm.AskAsync(Fake); // the connector is built and warm before the race

        var calls = Enumerable.Range(0, 3).Select(i => llm.AskAsync(Fake, goal: $"What is {i} + 1?")).ToList();
        var outcomes = await Task.WhenAll(calls.Select(async c =>
        {
            try
            {
                return (await c).Reply.FinalAnswer;
            }
            catch (ModelCallException e)
            {
                return e.Message;
            }
        }));

        Assert.That(outcomes.Count(o => o == "ok"), Is.EqualTo(2), "one in flight, one queued");
        Assert.That(outcomes, Has.One.EqualTo("The model gpt-fake: not called: too many calls to it are already waiting (MaxConcurrency)"));
        var raced = _fake.Requests.Skip(1).ToList();
        Assert.That(raced, Has.Count.EqualTo(2));
        Assert.That(raced[1].ReceivedAt - raced[0].ReceivedAt, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(350)), "the second waited for the first");
    }

    [Test]
    public async Task Should_keep_the_endpoint_shorthand_as_the_default_provider()
    {
        _fake.ReplyWithServerError(502).ReplyWithAnswer("via the shorthand").ReplyWithAnswer("via IChatCompletionService");
        await using var llm = LlmStack.Create(("Llm:Endpoint", _fake.BaseUrl.ToString()), ("Llm:Model", "local-model"), ("Llm:ApiKey", "k"));

        var answer = await llm.AskAsync(new ModelChoice(null, Cache: false));
        var direct = await llm.Services.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(new ChatHistory("hi"));

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("via the shorthand"));
        Assert.That(answer.Model, Is.EqualTo("local-model"));
        Assert.That(direct.Content, Is.EqualTo("via IChatCompletionService"));
        Assert.That(_fake.Requests.Select(r => r.Model), Is.All.EqualTo("local-model"));
        Assert.That(_fake.RequestCount, Is.EqualTo(3), "the 502 was retried by the default provider's pipeline");
        Assert.That(llm.Services.GetRequiredService<ChatModelInfo>().Describe(), Is.EqualTo("local-model"));
    }

    [Test]
    public async Task Should_report_an_unknown_provider_as_the_step_failure()
    {
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(new ModelChoice("m", Provider: "nowhere")));

        Assert.That(error!.Message, Is.EqualTo("Unknown model provider 'nowhere'. Declared providers: fake, offline (Llm:Providers)."));
    }

    [Test]
    public void Should_refuse_a_provider_of_an_unknown_kind_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new LlmProviders(new LlmOptions { Providers = { ["x"] = new LlmProviderOptions { Kind = "anthropic" } } }, TimeProvider.System));

        Assert.That(error!.Message, Is.EqualTo("Llm:Providers:x:Kind 'anthropic' is not known: use openai, azure-openai, openai-compatible or offline."));
    }

    [Test]
    public void Should_ask_for_a_default_provider_when_several_are_declared()
    {
        var options = new LlmOptions
        {
            Providers =
            {
                ["a"] = new LlmProviderOptions { Kind = "openai-compatible", Endpoint = new Uri("http://127.0.0.1:1/v1") },
                ["b"] = new LlmProviderOptions { Kind = "offline" },
            },
        };

        var error = Assert.Throws<InvalidOperationException>(() => new LlmProviders(options, TimeProvider.System));

        Assert.That(error!.Message, Does.Contain("set Llm:DefaultProvider"));
    }
}
