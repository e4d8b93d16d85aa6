using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Agentry.Tests.Hosting;

/// The consumer watchdog on a real RabbitMQ: it stops the service only on the condition it exists
/// for (a ready queue without a consumer, over its strikes), never on an error of its own. Before,
/// a passive declare that timed out after a broker restart escaped the loop and stopped a healthy
/// service (BackgroundServiceExceptionBehavior.StopHost).
[NonParallelizable]
public sealed class When_the_consumer_watchdog_looks_at_the_queues
{
    private string _queue = "";

    [SetUp]
    public void NameTheQueue() => _queue = $"watchdog-test-{Guid.NewGuid():N}";

    [TearDown]
    public async Task DeleteTheQueueAndResetTheExitCode()
    {
        Environment.ExitCode = 0;
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(TestServers.RequireRabbitMq()) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(_queue, ifUnused: false, ifEmpty: false);
        await channel.ExchangeDeleteAsync(_queue, ifUnused: false);
    }

    [Test]
    public async Task Should_keep_the_service_running_when_counting_times_out()
    {
        var counts = new ScriptedCounts(_ => throw new TaskCanceledException("A task was canceled (the passive declare timed out)."));
        using var host = await StartAsync(counts);

        await counts.WaitForRoundsAsync(6);

        Assert.That(Lifetime(host).ApplicationStopping.IsCancellationRequested, Is.False, "a round that cannot count must not stop the service");
        Assert.That(Environment.ExitCode, Is.Zero);
    }

    [Test]
    public async Task Should_stop_the_service_with_exit_code_1_when_a_ready_queue_keeps_no_consumer()
    {
        var counts = new ScriptedCounts(queues => queues.ToDictionary(q => q, _ => 0u));
        using var host = await StartAsync(counts);

        await WaitAsync(Lifetime(host).ApplicationStopping);

        Assert.That(counts.Rounds, Is.GreaterThanOrEqualTo(3), "three looks in a row (Bus:Watchdog:Strikes) before it acts");
        Assert.That(counts.Queues, Does.Contain(_queue));
        Assert.That(Environment.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public async Task Should_count_a_round_it_could_not_count_as_neither_a_strike_nor_a_clear()
    {
        // No consumer, no consumer, unknown, no consumer: the third strike is the fourth round.
        var counts = new ScriptedCounts(queues => queues.ToDictionary(q => q, _ => 0u), failOnRound: 3);
        using var host = await StartAsync(counts);

        await WaitAsync(Lifetime(host).ApplicationStopping);

        Assert.That(counts.Rounds, Is.EqualTo(4));
    }

    [Test]
    public async Task Should_count_the_consumers_the_broker_sees_and_leave_a_consuming_service_alone()
    {
        using var host = await StartAsync(counts: null);
        var real = host.Services.GetRequiredService<IQueueConsumerCounts>();

        var seen = await real.CountAsync([_queue], CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.That(seen[_queue], Is.EqualTo(1u));
        Assert.That(Lifetime(host).ApplicationStopping.IsCancellationRequested, Is.False);
    }

    private async Task<IHost> StartAsync(IQueueConsumerCounts? counts)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = TestServers.RequireRabbitMq(),
            ["Bus:Watchdog:Interval"] = "00:00:00.2",
            ["Bus:QuorumQueues"] = "false",
        });
        if (counts is not null)
        {
            builder.Services.AddSingleton(counts);
        }

        // A durable queue like a service's (a temporary one is exclusive, and the watchdog skips it);
        // deleted after the test.
        builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddConsumer<Idle>().Endpoint(e => e.Name = _queue));
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static IHostApplicationLifetime Lifetime(IHost host) => host.Services.GetRequiredService<IHostApplicationLifetime>();

    private static Task WaitAsync(CancellationToken stopping)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stopping.Register(() => stopped.TrySetResult());
        return stopped.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    private sealed record Nothing;

    private sealed class Idle : IConsumer<Nothing>
    {
        public Task Consume(ConsumeContext<Nothing> context) => Task.CompletedTask;
    }

    /// Answers each round as the test says, and fails the round numbered failOnRound.
    private sealed class ScriptedCounts(Func<IReadOnlyCollection<string>, IReadOnlyDictionary<string, uint>> answer, int failOnRound = 0) : IQueueConsumerCounts
    {
        private readonly TaskCompletionSource _enough = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _wanted = int.MaxValue;

        public int Rounds { get; private set; }

        public IReadOnlyCollection<string> Queues { get; private set; } = [];

        public Task<IReadOnlyDictionary<string, uint>> CountAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken)
        {
            Rounds++;
            Queues = queues;
            if (Rounds >= _wanted)
            {
                _enough.TrySetResult();
            }

            return Rounds == failOnRound
                ? throw new TaskCanceledException("A task was canceled (the passive declare timed out).")
                : Task.FromResult(answer(queues));
        }

        public Task WaitForRoundsAsync(int rounds)
        {
            _wanted = rounds;
            return Rounds >= rounds ? Task.CompletedTask : _enough.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
