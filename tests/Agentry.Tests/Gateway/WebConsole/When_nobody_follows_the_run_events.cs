using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.WebConsole;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client.Exceptions;

namespace Agentry.Tests.Gateway.WebConsole;

/// The console's event feed receives run events only while someone follows GET /runs/events (and a
/// linger after), so a Gateway nobody watches costs the broker no delivery per event.
[TestFixture(Transport.InMemory)]
[TestFixture(Transport.RabbitMq)]
public sealed class When_nobody_follows_the_run_events(When_nobody_follows_the_run_events.Transport transport)
{
    public enum Transport { InMemory, RabbitMq }

    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(300);

    private IHost _host = null!;
    private RunEventFeed _feed = null!;

    [SetUp]
    public async Task StartAGatewaysBus()
    {
        var builder = Host.CreateApplicationBuilder();
        var settings = new Dictionary<string, string?> { ["Console:EventFeedLinger"] = Linger.ToString() };
        if (transport == Transport.RabbitMq)
        {
            settings["ConnectionStrings:rabbitmq"] = TestServers.RequireRabbitMq();
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddGatewayClients());
        builder.Services.Configure<MassTransitHostOptions>(options => options.WaitUntilStarted = true);
        _host = builder.Build();
        await _host.StartAsync();
        _feed = _host.Services.GetRequiredService<RunEventFeed>();
    }

    [TearDown]
    public async Task StopIt()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    [Test]
    public async Task Should_receive_events_only_while_followed_and_again_when_followed_again()
    {
        Assert.That(_feed.Receiving, Is.False, "nobody follows yet");

        using (var subscription = await _feed.SubscribeAsync(Extensions.DefaultTenant, CancellationToken.None))
        {
            Assert.That(_feed.Receiving, Is.True);
            await AssertQueueAsync(exists: true);
            await AssertReceivesAsync(subscription);
        }

        await Eventually.Until(() => Task.FromResult(_feed.Receiving ? null : "stopped"), "the feed to stop receiving after the last follower left and the linger passed");
        await AssertQueueAsync(exists: false);

        using var again = await _feed.SubscribeAsync(Extensions.DefaultTenant, CancellationToken.None);
        await AssertReceivesAsync(again);
    }

    [Test]
    public async Task Should_keep_receiving_when_someone_follows_again_within_the_linger()
    {
        var first = await _feed.SubscribeAsync(Extensions.DefaultTenant, CancellationToken.None);
        var queue = _feed.Queue;
        first.Dispose();
        using var second = await _feed.SubscribeAsync(Extensions.DefaultTenant, CancellationToken.None);

        await Task.Delay(Linger * 3);

        Assert.That(_feed.Receiving, Is.True, "the first follower's linger ended the second follower's feed");
        Assert.That(_feed.Queue, Is.EqualTo(queue), "the feed resubscribed instead of keeping its queue");
        await AssertReceivesAsync(second);
    }

    private async Task AssertReceivesAsync(RunEventSubscription subscription)
    {
        var runId = NewId.NextGuid();
        await _host.Services.GetRequiredService<IBus>().Publish(new RunCompleted(runId, Extensions.DefaultTenant, "test-agent", "done", 1, new TokenUsage(0, 0), TimeSpan.Zero));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var runEvent in subscription.ReadAllAsync(timeout.Token))
        {
            if (runEvent.RunId == runId)
            {
                Assert.That(runEvent.Type, Is.EqualTo(nameof(RunCompleted)));
                return;
            }
        }
    }

    // Over RabbitMQ the feed's queue is the cost: it must exist only while the feed receives.
    private async Task AssertQueueAsync(bool exists)
    {
        if (transport != Transport.RabbitMq)
        {
            return;
        }

        var queue = exists ? _feed.Queue : _lastQueue;
        _lastQueue = _feed.Queue ?? _lastQueue;
        Assert.That(queue, Is.Not.Null);
        Assert.That(await QueueReplyCodeAsync(queue!), Is.EqualTo(exists ? 405 : 404),
            exists ? $"queue {queue} is not held by the feed's connection" : $"queue {queue} outlived the feed");
    }

    // The feed's queue is exclusive to its connection: a passive declare from another connection is
    // refused with 405 (RESOURCE_LOCKED) while it exists and 404 (NOT_FOUND) once it is gone.
    private static async Task<int> QueueReplyCodeAsync(string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(TestServers.RequireRabbitMq()) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return 200;
        }
        catch (OperationInterruptedException e)
        {
            return e.ShutdownReason!.ReplyCode;
        }
    }

    private string? _lastQueue;
}
