using Agentry.Llm;
using Agentry.Agents;

namespace Agentry.Tests.Llm;

/// The fallback chain: the next model is asked on a timeout, 429, 5xx or an open circuit.
public sealed class When_the_primary_model_fails
{
    private OpenAiFake _primary = null!;
    private OpenAiFake _secondary = null!;

    [SetUp]
    public void Start()
    {
        _primary = OpenAiFake.Start();
        _secondary = OpenAiFake.Start();
        _secondary.WhenEmpty = _ => FakeReply.Answer("from the fallback");
    }

    [TearDown]
    public void Stop()
    {
        _primary.Dispose();
        _secondary.Dispose();
    }

    private static readonly ModelChoice Chain = new("big", Provider: "primary", Cache: false, Fallbacks: [new FallbackModel("secondary", "small")]);

    private LlmStack Stack(params (string Key, string? Value)[] primary) =>
        LlmStack.Create(
        [
            ("Llm:DefaultProvider", "primary"),
            .. LlmStack.Provider("primary", _primary, more: primary),
            .. LlmStack.Provider("secondary", _secondary),
        ]);

    [Test]
    public async Task Should_answer_from_the_second_model_when_the_first_keeps_failing_and_record_it()
    {
        _primary.WhenEmpty = _ => FakeReply.Status(503);
        await using var llm = Stack();

        var answer = await llm.AskAsync(Chain);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("from the fallback"));
        Assert.That(answer.Model, Is.EqualTo("secondary/small"));
        Assert.That(_primary.RequestCount, Is.EqualTo(2), "the primary was tried, and retried once");
        Assert.That(_secondary.Requests.Single().Model, Is.EqualTo("small"));
        Assert.That(llm.Logs.All, Does.Contain("Model big did not answer (HTTP 503 ServiceUnavailable"));
    }

    [Test]
    public async Task Should_fall_back_at_once_when_retry_after_is_longer_than_the_provider_waits()
    {
        _primary.ReplyWithRateLimit(TimeSpan.FromMinutes(5));
        await using var llm = Stack(("MaxRetryAfter", "00:00:10"));

        var answer = await llm.AskAsync(Chain);

        Assert.That(answer.Model, Is.EqualTo("secondary/small"));
        Assert.That(_primary.RequestCount, Is.EqualTo(1), "a five-minute Retry-After is not waited for");
    }

    [Test]
    public async Task Should_fall_back_on_a_timeout()
    {
        _primary.WhenEmpty = _ => FakeReply.Answer("slow").After(TimeSpan.FromSeconds(5));
        await using var llm = Stack(("Timeout", "00:00:00.200"), ("MaxRetries", "0"));

        var answer = await llm.AskAsync(Chain);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("from the fallback"));
    }

    [Test]
    public async Task Should_not_fall_back_on_a_client_error_that_another_model_would_get_too()
    {
        _primary.Enqueue(FakeReply.Status(400, "bad request"));
        await using var llm = Stack();

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Chain));

        Assert.That(error!.Message, Is.EqualTo("No model of the chain answered: big: HTTP 400 BadRequest (bad request)."));
        Assert.That(_secondary.RequestCount, Is.Zero);
    }

    [Test]
    public async Task Should_name_every_failure_when_no_model_answers()
    {
        _primary.WhenEmpty = _ => FakeReply.Status(500);
        _secondary.WhenEmpty = _ => FakeReply.Status(503);
        await using var llm = Stack();

        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(Chain));

        Assert.That(error!.Message, Does.StartWith("No model of the chain answered: big: HTTP 500 InternalServerError")
            .And.Contain("; secondary/small: HTTP 503 ServiceUnavailable"));
    }

    [Test]
    public async Task Should_stop_calling_the_primary_while_its_circuit_is_open()
    {
        _primary.WhenEmpty = _ => FakeReply.Status(500);
        await using var llm = Stack(("MaxRetries", "0"), ("CircuitBreaker:MinimumThroughput", "2"), ("CircuitBreaker:BreakDuration", "00:01:00"));

        await llm.AskAsync(Chain);
        await llm.AskAsync(Chain);
        var callsBeforeOpen = _primary.RequestCount;
        var third = await llm.AskAsync(Chain);

        Assert.That(callsBeforeOpen, Is.EqualTo(2));
        Assert.That(_primary.RequestCount, Is.EqualTo(2), "the open circuit kept the third call from the primary");
        Assert.That(third.Model, Is.EqualTo("secondary/small"));
        Assert.That(llm.Logs.All, Does.Contain("circuit is open").And.Contain("circuit opened"));
    }
}
