using Agentry.Contracts;
using Agentry.Agents;

namespace Agentry.Tests.Llm;

/// The response cache: deterministic requests only, a hit costs no tokens, identical requests in
/// flight together make one call; in memory by default, in Redis when `redis` is configured.
public sealed class When_replies_are_cached
{
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _fake = OpenAiFake.Start();
        _fake.WhenEmpty = _ => FakeReply.Answer("42", promptTokens: 50, completionTokens: 2);
    }

    [TearDown]
    public void Stop() => _fake.Dispose();

    private static readonly ModelChoice Model = new("gpt-fake", Provider: "fake");

    [Test]
    public async Task Should_answer_a_repeated_deterministic_request_from_the_cache_at_no_cost()
    {
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var first = await llm.AskAsync(Model);
        var second = await llm.AskAsync(Model);

        Assert.That(_fake.RequestCount, Is.EqualTo(1));
        Assert.That(first.CacheHit, Is.False);
        Assert.That(first.Reply.Usage, Is.EqualTo(new TokenUsage(50, 2)));
        Assert.That(second.CacheHit, Is.True);
        Assert.That(second.Reply.Usage, Is.EqualTo(TokenUsage.None));
        Assert.That(second.Reply.FinalAnswer, Is.EqualTo("42"));
        Assert.That(second.Model, Is.EqualTo("gpt-fake"));
    }

    [Test]
    public async Task Should_ask_again_when_anything_in_the_request_differs()
    {
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        await llm.AskAsync(Model, goal: "What is 6 * 7?");
        await llm.AskAsync(Model, goal: "What is 6 * 8?");
        await llm.AskAsync(Model with { Name = "other-model" }, goal: "What is 6 * 7?");

        Assert.That(_fake.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task Should_not_cache_a_request_with_a_temperature_above_zero_unless_the_agent_opts_in()
    {
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        await llm.AskAsync(Model, temperature: 0.7);
        var again = await llm.AskAsync(Model, temperature: 0.7);
        Assert.That(again.CacheHit, Is.False);
        Assert.That(_fake.RequestCount, Is.EqualTo(2));

        await llm.AskAsync(Model with { Cache = true }, temperature: 0.7);
        var optedIn = await llm.AskAsync(Model with { Cache = true }, temperature: 0.7);
        Assert.That(optedIn.CacheHit, Is.True);
        Assert.That(_fake.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task Should_not_cache_when_the_agent_opts_out()
    {
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        await llm.AskAsync(Model with { Cache = false });
        await llm.AskAsync(Model with { Cache = false });

        Assert.That(_fake.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task Should_make_one_provider_call_for_identical_requests_in_flight_together()
    {
        _fake.WhenEmpty = _ => FakeReply.Answer("42").After(TimeSpan.FromMilliseconds(300));
        await using var llm = LlmStack.Create(LlmStack.Provider("fake", _fake));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => llm.AskAsync(Model))));

        Assert.That(_fake.RequestCount, Is.EqualTo(1));
        Assert.That(answers.Select(a => a.Reply.FinalAnswer), Is.All.EqualTo("42"));
        Assert.That(answers.Count(a => !a.CacheHit), Is.EqualTo(1), "one caller paid for the call; the others shared it");
    }

    [Test]
    public async Task Should_share_the_cache_between_processes_through_redis()
    {
        var redis = TestServers.RequireRedis();
        var prefix = $"agentry-test:{Guid.NewGuid():N}:llm:";
        (string, string?)[] settings =
        [
            ("ConnectionStrings:redis", redis),
            ("Llm:Cache:KeyPrefix", prefix),
            ("Llm:Cache:Ttl", "00:01:00"),
            .. LlmStack.Provider("fake", _fake),
        ];

        await using (var first = LlmStack.Create(settings))
        {
            Assert.That((await first.AskAsync(Model)).CacheHit, Is.False);
        }

        await using var second = LlmStack.Create(settings);
        var answer = await second.AskAsync(Model);

        Assert.That(answer.CacheHit, Is.True);
        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("42"));
        Assert.That(_fake.RequestCount, Is.EqualTo(1));

        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var keys = server.Keys(pattern: prefix + "*").ToList();
        Assert.That(keys, Has.Count.EqualTo(1));
        var ttl = await connection.GetDatabase().KeyTimeToLiveAsync(keys[0]);
        Assert.That(ttl, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromMinutes(1)));
        await connection.GetDatabase().KeyDeleteAsync(keys[0]);
    }

    [Test]
    public async Task Should_treat_a_broken_cache_as_a_miss_and_still_answer()
    {
        (string, string?)[] settings =
        [
            ("ConnectionStrings:redis", "127.0.0.1:1,connectTimeout=200,syncTimeout=300,asyncTimeout=300"),
            .. LlmStack.Provider("fake", _fake),
        ];
        await using var llm = LlmStack.Create(settings);

        var answer = await llm.AskAsync(Model);

        Assert.That(answer.Reply.FinalAnswer, Is.EqualTo("42"));
        Assert.That(llm.Logs.All, Does.Contain("The LLM response cache could not read"));
    }
}
