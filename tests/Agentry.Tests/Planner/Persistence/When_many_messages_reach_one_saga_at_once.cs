using Agentry.Planner.Persistence;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Planner.Persistence;

/// Many messages for one instance, split between two processes that share only Redis. Each process
/// applies one message per instance at a time (partitioned, as the Planner does), so the two race
/// each other: every conflict must end in a retry that applies the message to the current instance.
public sealed class When_many_messages_reach_one_saga_at_once : RedisFixture
{
    private const int Messages = 24;

    private static Task<PlannerProcess> Process(string keyPrefix) =>
        PlannerProcess.StartAsync(
            new ConfigurationBuilder().Build(),
            new FakeTimeProvider(),
            TestAgents.Catalog(),
            _ => { },
            bus => bus.AddSagaStateMachine<TallyStateMachine, TallyState>((_, saga) =>
                {
                    var partitioner = saga.CreatePartitioner(8);
                    saga.Message<TallyCounted>(m => m.UsePartitioner(partitioner, c => c.Message.TallyId));
                })
                .Endpoint(e => e.ConcurrentMessageLimit = 8)
                .RedisRepository(_ => new RedisSagaRepositoryOptions<TallyState>(keyPrefix + "tally:", _ => null)));

    [Test]
    public async Task Should_never_lose_an_update_under_concurrent_messages()
    {
        var keyPrefix = Redis.NewKeyPrefix();
        await using var first = await Process(keyPrefix);
        await using var second = await Process(keyPrefix);
        using var conflicts = new SagaConflicts(nameof(TallyState));
        var tallyId = NewId.NextGuid();
        var messages = Enumerable.Range(1, Messages).Select(n => new TallyCounted(tallyId, n)).ToList();

        await Task.WhenAll(
            first.Deliver([.. messages.Where(m => m.Number % 2 == 1)]),
            second.Deliver([.. messages.Where(m => m.Number % 2 == 0)]));

        var tally = await first.Services.GetRequiredService<ILoadSagaRepository<TallyState>>().Load(tallyId);
        Assert.That(tally, Is.Not.Null);
        Assert.That(tally!.Numbers.Order(), Is.EqualTo(Enumerable.Range(1, Messages)), "an update was lost or applied twice");
        Assert.That((tally.Count, tally.Version), Is.EqualTo((Messages, Messages)), "one insert and one update per message");
        Assert.That(first.Published<Fault<TallyCounted>>().Concat(second.Published<Fault<TallyCounted>>()), Is.Empty, "a message ran out of retries");
        Assert.That(conflicts.Count, Is.GreaterThan(0), "the two processes never raced: the test proved nothing about conflicts");
        TestContext.Out.WriteLine($"{conflicts.Count} conflicts retried for {Messages} messages.");
    }
}
