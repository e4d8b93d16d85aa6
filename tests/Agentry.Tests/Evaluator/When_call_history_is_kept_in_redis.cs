using Agentry.Evaluator;
using MassTransit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Tests.Evaluator;

/// The call history that loop detection reads, shared by several Evaluators through Redis.
public sealed class When_call_history_is_kept_in_redis : RedisFixture
{
    private EvaluatorRedisOptions _options = null!;
    private RedisCallHistory _history = null!;

    [SetUp]
    public void UseNewKeys()
    {
        _options = new EvaluatorRedisOptions { KeyPrefix = Redis.NewKeyPrefix(), CallHistoryExpiry = TimeSpan.FromHours(3) };
        _history = new RedisCallHistory(Redis.Multiplexer, Options.Create(_options));
    }

    private static CallFingerprint Call(int step, string tool = "calculator", string arguments = """{"expression":"2+3"}""", string result = "5") =>
        new(step, tool, arguments, result);

    private RedisKey Key(Guid runId) => $"{_options.KeyPrefix}calls:{runId:D}";

    [Test]
    public async Task Should_return_the_calls_of_earlier_steps_in_step_order()
    {
        var runId = NewId.NextGuid();

        Assert.That(await _history.RecordAsync(runId, 1, [Call(1), Call(1, "http_get", """{"url":"https://example.com"}""", "ok")], CancellationToken.None), Is.Empty);
        Assert.That(await _history.RecordAsync(runId, 3, [Call(3)], CancellationToken.None),
            Is.EqualTo(new[] { Call(1), Call(1, "http_get", """{"url":"https://example.com"}""", "ok") }));
        var earlier = await _history.RecordAsync(runId, 4, [Call(4)], CancellationToken.None);

        Assert.That(earlier.Select(c => c.Step), Is.EqualTo(new[] { 1, 1, 3 }));
    }

    [Test]
    public async Task Should_see_the_steps_another_evaluator_recorded()
    {
        var runId = NewId.NextGuid();
        await using var other = await TestRedis.ConnectAnotherAsync();
        var otherEvaluator = new RedisCallHistory(other, Options.Create(_options));

        await otherEvaluator.RecordAsync(runId, 1, [Call(1)], CancellationToken.None);

        Assert.That(await _history.RecordAsync(runId, 2, [Call(2)], CancellationToken.None), Is.EqualTo(new[] { Call(1) }));
    }

    [Test]
    public async Task Should_give_the_same_answer_when_a_step_is_delivered_again()
    {
        var runId = NewId.NextGuid();
        await _history.RecordAsync(runId, 1, [Call(1)], CancellationToken.None);
        var first = await _history.RecordAsync(runId, 2, [Call(2)], CancellationToken.None);

        var again = await _history.RecordAsync(runId, 2, [Call(2)], CancellationToken.None);

        Assert.That(again, Is.EqualTo(first));
        Assert.That(await Redis.Database.HashLengthAsync(Key(runId)), Is.EqualTo(2), "the redelivered step was stored twice");
    }

    [Test]
    public async Task Should_forget_a_run()
    {
        var runId = NewId.NextGuid();
        await _history.RecordAsync(runId, 1, [Call(1)], CancellationToken.None);

        await _history.ForgetAsync(runId, CancellationToken.None);

        Assert.That(await Redis.Database.KeyExistsAsync(Key(runId)), Is.False);
        Assert.That(await _history.RecordAsync(runId, 2, [Call(2)], CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_expire_the_history_of_a_run_whose_end_was_never_seen()
    {
        var runId = NewId.NextGuid();

        await _history.RecordAsync(runId, 1, [Call(1)], CancellationToken.None);

        Assert.That(await Redis.Database.KeyTimeToLiveAsync(Key(runId)),
            Is.Not.Null.And.InRange(TimeSpan.FromHours(3) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(3)));
    }
}
