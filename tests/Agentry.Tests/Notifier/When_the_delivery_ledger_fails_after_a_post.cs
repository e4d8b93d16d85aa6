using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Notifier;
using Agentry.Notifier.Delivery;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Notifier;

/// Redis restarting just after a webhook answered: the delivery cannot be recorded at once. Seen in
/// the chaos soak as a second POST of one notification (after the lease ran out); the Notifier now
/// keeps trying to record it instead of failing the message, so the notification goes out once.
public sealed class When_the_delivery_ledger_fails_after_a_post : HarnessFixture
{
    private readonly FlakyLedger _ledger = new(failuresToRecord: 3);
    private TestWebhook _webhook = null!;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(webhook: _webhook.Url.ToString()));

    [OneTimeSetUp]
    public async Task StartWebhook() => _webhook = await TestWebhook.StartAsync();

    [OneTimeTearDown]
    public async Task StopWebhook() => await _webhook.DisposeAsync();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IDeliveryLedger>(_ledger);
        services.AddNotifier();
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddNotifierConsumers();

    [Test]
    public async Task Should_post_once_and_record_the_delivery_once_the_ledger_answers()
    {
        var completed = new RunCompleted(NewId.NextGuid(), "tenant-a", "assistant", "395", 2, new TokenUsage(10, 1), TimeSpan.FromSeconds(1));

        await Harness.Bus.Publish(completed);
        await _webhook.WaitForPostsAsync(1);
        await Eventually.Until(() => Task.FromResult(_ledger.Recorded ? "recorded" : null), "the delivery recorded");
        await Harness.Bus.Publish(completed);
        await Quiet();

        Assert.That(_webhook.Received, Has.Count.EqualTo(1));
        Assert.That(_ledger.FailedRecords, Is.EqualTo(3));
    }

    /// The in-memory ledger, whose first records fail as a restarting Redis does.
    private sealed class FlakyLedger(int failuresToRecord) : IDeliveryLedger
    {
        private readonly InMemoryDeliveryLedger _inner = new(TimeProvider.System);
        private int _failed;

        public int FailedRecords => _failed;

        public bool Recorded { get; private set; }

        public Task<DeliveryClaim> ClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken) => _inner.ClaimAsync(key, lease, cancellationToken);

        public async Task MarkDeliveredAsync(string key, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _failed) <= failuresToRecord)
            {
                throw new InvalidOperationException("It's loading the dataset in memory (LOADING)");
            }

            _failed = failuresToRecord;
            await _inner.MarkDeliveredAsync(key, cancellationToken);
            Recorded = true;
        }

        public Task ReleaseAsync(string key, CancellationToken cancellationToken) => _inner.ReleaseAsync(key, cancellationToken);
    }
}
