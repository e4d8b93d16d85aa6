using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Agentry.ServiceDefaults;

/// Stops the service when one of its queues has lost its consumer while MassTransit still reports
/// the endpoint ready, so that the orchestrator starts a fresh process. That happens after a broker
/// restart when a delivery was in flight as the connection died: the endpoint reconnects but never
/// consumes again, and every run that needs it would wait for its deadline (MassTransit 8.5; see
/// docs/decisions/0007-rabbitmq-queues-and-redelivery.md). Restarting the bus in-process does not
/// help: its stop hangs on the dead channel and the host stays "started". The broker's own count of
/// consumers per queue (a passive declare) is the only signal that sees it. With several replicas
/// on one queue the count includes the others, so one wedged replica among healthy ones is not
/// seen; its work is still done by the others.
public sealed partial class ConsumerWatchdog(
    IBusControl bus,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILogger<ConsumerWatchdog> logger) : BackgroundService
{
    private readonly TimeSpan _interval = configuration.GetValue("Bus:Watchdog:Interval", TimeSpan.FromSeconds(10));
    // Several looks in a row: an endpoint may report ready a moment before its consumer is registered.
    private readonly int _strikes = configuration.GetValue("Bus:Watchdog:Strikes", 3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero || configuration.GetConnectionString("rabbitmq") is not { Length: > 0 } url)
        {
            return;
        }

        var factory = new ConnectionFactory { Uri = new Uri(url), ClientProvidedName = $"{AppDomain.CurrentDomain.FriendlyName} watchdog" };
        var missing = new Dictionary<string, int>(StringComparer.Ordinal);
        IConnection? connection = null;
        try
        {
            using var timer = new PeriodicTimer(_interval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    connection ??= await factory.CreateConnectionAsync(stoppingToken);
                    var wedged = await FindQueuesWithoutConsumersAsync(connection, missing, stoppingToken);
                    if (wedged.Count > 0)
                    {
                        // Unacknowledged deliveries go back to their queues when this process's
                        // connection closes; durable queues keep the rest for the next process.
                        LogStopping(logger, string.Join(", ", wedged));
                        Environment.ExitCode = 1;
                        lifetime.StopApplication();
                        return;
                    }
                }
                catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or AlreadyClosedException or IOException)
                {
                    // The broker is away: MassTransit's own reconnection handles that; look again later.
                    LogBrokerAway(logger, e.Message);
                    missing.Clear();
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task<List<string>> FindQueuesWithoutConsumersAsync(IConnection connection, Dictionary<string, int> missing, CancellationToken cancellationToken)
    {
        var health = bus.CheckHealth();
        var wedged = new List<string>();
        if (health.Status != BusHealthStatus.Healthy)
        {
            missing.Clear();
            return wedged;
        }

        // One channel for every look of this round: a passive declare of a missing queue closes it,
        // which ends the round (caught by the caller) rather than being looked past.
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var (address, endpoint) in health.Endpoints)
        {
            if (endpoint.Status != BusHealthStatus.Healthy || QueueOf(address) is not { } queue)
            {
                missing.Remove(address);
                continue;
            }

            var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            if (declared.ConsumerCount > 0)
            {
                missing.Remove(address);
                continue;
            }

            missing[address] = missing.GetValueOrDefault(address) + 1;
            if (missing[address] >= _strikes)
            {
                wedged.Add(queue);
            }
        }

        return wedged;
    }

    /// The queue of a service endpoint; null for the bus's own temporary endpoint.
    private static string? QueueOf(string address)
    {
        var uri = new Uri(address);
        if (uri.Query.Contains("temporary=true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var queue = Uri.UnescapeDataString(uri.AbsolutePath.TrimEnd('/').Split('/')[^1]);
        return queue.Length == 0 || queue.StartsWith(Extensions.TemporaryEndpointPrefix, StringComparison.Ordinal) ? null : queue;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Consumer watchdog: the broker is not reachable ({Problem}); looking again later.")]
    private static partial void LogBrokerAway(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Queues {Queues} have no consumer although their endpoints report ready (an endpoint that did not resume after a broker outage): stopping the service with exit code 1 so that it is started afresh.")]
    private static partial void LogStopping(ILogger logger, string queues);
}
