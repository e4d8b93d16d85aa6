using Agentry.Llm;
using Agentry.Agents;

namespace Agentry.Tests.Llm;

/// Keys come from the environment or a file and are sent to the provider, and to nothing else:
/// not to logs at any level, not to exception messages or step failure reasons.
public sealed class When_an_api_key_is_configured
{
    private const string Secret = "sk-agentry-test-SECRET-7f3a9c";

    private OpenAiFake _fake = null!;
    private TempFolder _folder = null!;

    [SetUp]
    public void Start()
    {
        _fake = OpenAiFake.Start();
        _folder = new TempFolder();
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    [Test]
    public async Task Should_send_the_key_from_a_file_and_keep_it_out_of_logs_and_errors()
    {
        var keyFile = _folder.Write("openai.key", Secret + "\n");
        _fake.ReplyWithAnswer("ok").ReplyWithRateLimit(TimeSpan.FromMilliseconds(10));
        _fake.WhenEmpty = _ => FakeReply.Status(401, "Incorrect API key provided.");
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake, "openai", ("ApiKeyFile", keyFile), ("Model", "gpt-fake")));
        var model = new ModelChoice(null, Provider: "fake", Cache: false);

        var answer = await llm.AskAsync(model);
        var error = Assert.ThrowsAsync<ModelCallException>(() => llm.AskAsync(model));

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("ok"));
        Assert.That(_fake.Requests.Select(r => r.Headers["Authorization"]), Is.All.EqualTo("Bearer " + Secret), "the key did reach the provider");
        Assert.That(error!.Message, Does.Contain("HTTP 401"));
        Assert.That(error.ToString(), Does.Not.Contain(Secret), "nor any inner exception");
        Assert.That(llm.Logs.Lines, Is.Not.Empty);
        Assert.That(llm.Logs.All, Does.Not.Contain(Secret));
    }

    [Test]
    public void Should_name_a_missing_environment_variable_without_guessing_at_its_value()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LlmStack.Create(
            LlmStack.Provider("fake", _fake, "openai", ("ApiKeyEnv", "AGENTRY_TEST_NO_SUCH_KEY"))).Services.GetService(typeof(LlmProviders)));

        Assert.That(error!.Message, Is.EqualTo("Llm:Providers:fake:ApiKeyEnv names the environment variable AGENTRY_TEST_NO_SUCH_KEY, which is not set."));
    }

    [Test]
    public void Should_require_a_key_for_openai()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LlmStack.Create(
            LlmStack.Provider("fake", _fake, "openai")).Services.GetService(typeof(LlmProviders)));

        Assert.That(error!.Message, Does.StartWith("Llm:Providers:fake needs an API key: set Llm:Providers:fake:ApiKeyEnv"));
    }
}
