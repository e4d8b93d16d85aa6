using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;

namespace Agentry.ServiceDefaults;

/// How many consumers the broker counts on each queue.
public interface IQueueConsumerCounts
{
    Task<IReadOnlyDictionary<string, uint>> CountAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken);
}

/// The broker's own count, by a passive declare per queue on one channel per call, over a
/// connection of its own that is opened again after any failure.
public sealed class RabbitMqQueueConsumerCounts(IConfiguration configuration) : IQueueConsumerCounts, IAsyncDisposable
{
    private readonly ConnectionFactory _factory = new()
    {
        Uri = new Uri(configuration.GetConnectionString("rabbitmq")!),
        ClientProvidedName = $"{AppDomain.CurrentDomain.FriendlyName} watchdog",
    };

    private IConnection? _connection;

    public async Task<IReadOnlyDictionary<string, uint>> CountAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken)
    {
        try
        {
            _connection ??= await _factory.CreateConnectionAsync(cancellationToken);
            // A passive declare of a missing queue closes the channel, which fails the whole call
            // rather than being looked past.
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var counts = new Dictionary<string, uint>(StringComparer.Ordinal);
            foreach (var queue in queues)
            {
                counts[queue] = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).ConsumerCount;
            }

            return counts;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }
}
