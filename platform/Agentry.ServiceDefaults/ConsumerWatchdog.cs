using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
/// A round that cannot count (a timeout, a channel closed, the broker away) counts as unknown: it
/// neither adds a strike nor clears one, and it never stops the service.
/// It also stops the service when the bus itself has not been ready for Bus:Watchdog:UnhealthyLimit
/// (default 60 s) while the broker answered the watchdog's own connection all along: after a
/// connection died under load (missed heartbeats), a receive transport was seen retrying on the
/// dead connection ("Connection is already closed") for minutes, the bus "not started", while the
/// broker was up. A broker that is away resets that clock: waiting for it is the bus's job, and a
/// fresh process would only wait too.
public sealed partial class ConsumerWatchdog(
    IBusControl bus,
    IQueueConsumerCounts consumers,
    IConfiguration configuration,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<ConsumerWatchdog> logger) : PeriodicBackgroundService(clock, logger)
{
    // Several looks in a row: an endpoint may report ready a moment before its consumer is registered.
    private readonly int _strikes = configuration.GetValue("Bus:Watchdog:Strikes", 3);
    private readonly Dictionary<string, int> _missing = new(StringComparer.Ordinal);
    private readonly TimeSpan _unhealthyLimit = configuration.GetValue("Bus:Watchdog:UnhealthyLimit", TimeSpan.FromSeconds(60));
    private DateTimeOffset? _unhealthyWhileBrokerAnswers;

    protected override TimeSpan Interval { get; } = configuration.GetValue("Bus:Watchdog:Interval", TimeSpan.FromSeconds(10));

    protected override async Task RunRoundAsync(CancellationToken stoppingToken)
    {
        var health = bus.CheckHealth();
        if (health.Status != BusHealthStatus.Healthy)
        {
            // The bus is reconnecting on its own: what an endpoint reports now says nothing.
            _missing.Clear();
            await WatchUnhealthyBusAsync(health.Description, stoppingToken);
            return;
        }

        _unhealthyWhileBrokerAnswers = null;

        var ready = health.Endpoints
            .Where(e => e.Value.Status == BusHealthStatus.Healthy)
            .Select(e => QueueOf(e.Key))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        foreach (var queue in _missing.Keys.Where(q => !ready.Contains(q)).ToList())
        {
            _missing.Remove(queue);
        }

        IReadOnlyDictionary<string, uint> counts;
        try
        {
            counts = await consumers.CountAsync(ready, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogUnknownRound(logger, e.GetType().Name, e.Message);
            return;
        }

        foreach (var (queue, count) in counts)
        {
            _missing[queue] = count > 0 ? 0 : _missing.GetValueOrDefault(queue) + 1;
        }

        var wedged = _missing.Where(m => m.Value >= _strikes).Select(m => m.Key).Order(StringComparer.Ordinal).ToList();
        if (wedged.Count > 0)
        {
            // Unacknowledged deliveries go back to their queues when this process's connection
            // closes; durable queues keep the rest for the next process.
            StopService(lifetime, $"queues {string.Join(", ", wedged)} have had no consumer for {_strikes} looks in a row although their endpoints report ready (an endpoint that did not resume after a broker outage); the orchestrator starts the service afresh.");
        }
    }

    private async Task WatchUnhealthyBusAsync(string description, CancellationToken stoppingToken)
    {
        try
        {
            // No queues: only whether the broker accepts a connection and a channel.
            await consumers.CountAsync([], stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            _unhealthyWhileBrokerAnswers = null;
            LogUnknownRound(logger, e.GetType().Name, e.Message);
            return;
        }

        var now = Clock.GetUtcNow();
        _unhealthyWhileBrokerAnswers ??= now;
        if (now - _unhealthyWhileBrokerAnswers >= _unhealthyLimit)
        {
            StopService(lifetime, $"the bus has not been ready for {_unhealthyLimit.TotalSeconds:0} s while the broker answered ({description}): a bus that does not recover from a lost connection; the orchestrator starts the service afresh.");
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer watchdog: could not count the queues' consumers this round ({Error}: {Problem}); the round counts as unknown and the service keeps running.")]
    private static partial void LogUnknownRound(ILogger logger, string error, string problem);
}
