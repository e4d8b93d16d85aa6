using Agentry.Tests;

namespace Agentry.Distributed.Tests;

/// The consumer watchdog's second rule (ConsumerWatchdog): a bus that stays not ready while the
/// broker answers is a wedged process, stopped so that its orchestrator starts a fresh one. Wedged
/// here on purpose: the service loses its connection and may no longer declare its queues (its
/// configure permission taken), so its endpoints cannot start again while the broker is up.
// Mostly waiting (for the watchdog, for a broker away 15 s), with one process and a broker of its
// own: it runs beside the other fixtures marked so, instead of adding its waits to the suite.
[Parallelizable]
public sealed class When_a_service_bus_does_not_recover
{
    [Test]
    public async Task Should_stop_the_service_for_its_orchestrator_when_its_bus_is_not_ready_for_the_limit_while_the_broker_answers()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        await using var deployment = await Deployment.StartAsync(broker, new Dictionary<string, string>
        {
            ["Bus__Watchdog__Interval"] = "00:00:01",
            ["Bus__Watchdog__UnhealthyLimit"] = "00:00:05",
        }, "Evaluator");
        var evaluator = deployment.Get("Evaluator");
        Assert.That(evaluator.UnexpectedExits, Is.Empty);

        Assert.That(await broker.CtlAsync("set_permissions", "-p", "/", "guest", "^$", ".*", ".*") is { ExitCode: 0 }, "set_permissions failed");
        Assert.That(await broker.CtlAsync("close_all_connections", "a connection lost under load") is { ExitCode: 0 }, "close_all_connections failed");

        var exit = await Eventually.Until(() => Task.FromResult(evaluator.UnexpectedExits.FirstOrDefault()), $"the Evaluator stopping itself{Environment.NewLine}{deployment.Logs}");
        Assert.That(exit, Does.Contain("exit code 1: ConsumerWatchdog is stopping the service (exit code 1): the bus has not been ready for 5 s while the broker answered"));

        // Once what wedged it is gone, the process the supervisor started afresh gets ready.
        Assert.That(await broker.CtlAsync("set_permissions", "-p", "/", "guest", ".*", ".*", ".*") is { ExitCode: 0 }, "set_permissions failed");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(async () =>
        {
            try
            {
                using var ready = await http.GetAsync(new Uri(evaluator.BaseAddress, "/health/ready"));
                return ready.IsSuccessStatusCode ? "ready" : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }, $"a fresh Evaluator ready{Environment.NewLine}{deployment.Logs}");
    }

    [Test]
    public async Task Should_keep_the_service_running_while_the_broker_itself_is_away()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        await using var deployment = await Deployment.StartAsync(broker, new Dictionary<string, string>
        {
            ["Bus__Watchdog__Interval"] = "00:00:01",
            ["Bus__Watchdog__UnhealthyLimit"] = "00:00:05",
        }, "Evaluator");

        // Three times the limit without a broker: the bus is right to wait, and a fresh process would wait too.
        await broker.RestartAsync(TimeSpan.FromSeconds(15));

        Assert.That(deployment.Get("Evaluator").UnexpectedExits, Is.Empty, deployment.Logs);
    }
}
