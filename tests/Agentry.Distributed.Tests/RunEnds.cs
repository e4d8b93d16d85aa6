using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Agentry.Distributed.Tests;

/// Every publication of every run's end, as a downstream system with a durable queue of its own
/// receives them: the queue and the client's automatic recovery outlive a broker restart, and each
/// delivery is acknowledged only once recorded, so none is missed and a redelivery is recorded too
/// (a run's ends are told apart by their message ids, as docs/integration.md tells consumers to).
public sealed class RunEnds : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, ConcurrentQueue<End>> _ends = new();
    private IConnection _connection = null!;
    private IChannel _channel = null!;
    private int _redeliveries;

    public sealed record End(string Type, string MessageId);

    /// Deliveries that the broker marked as redelivered to this test's own queue (not publications).
    public int Redeliveries => _redeliveries;

    public static async Task<RunEnds> StartAsync(string amqpUrl)
    {
        var ends = new RunEnds();
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl), AutomaticRecoveryEnabled = true, NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500) };
        ends._connection = await factory.CreateConnectionAsync();
        ends._channel = await ends._connection.CreateChannelAsync();
        var queue = $"test-run-ends-{Guid.NewGuid():N}";
        await ends._channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        foreach (var exchange in RawRabbitMq.OutcomeExchanges)
        {
            await ends._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await ends._channel.QueueBindAsync(queue, exchange, routingKey: "");
        }

        var consumer = new AsyncEventingBasicConsumer(ends._channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            using var document = JsonDocument.Parse(delivery.Body);
            var root = document.RootElement;
            var type = root.GetProperty("messageType")[0].GetString()!.Split(':').Last();
            var runId = root.GetProperty("message").GetProperty("runId").GetGuid();
            ends._ends.GetOrAdd(runId, _ => new()).Enqueue(new End(type, root.GetProperty("messageId").GetString()!));
            if (delivery.Redelivered)
            {
                Interlocked.Increment(ref ends._redeliveries);
            }

            await ends._channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await ends._channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return ends;
    }

    public bool HasEnded(Guid runId) => _ends.ContainsKey(runId);

    /// Every delivery of the run's ends, in arrival order (empty when it has not ended).
    public IReadOnlyList<End> Of(Guid runId) => _ends.TryGetValue(runId, out var ends) ? [.. ends] : [];

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
