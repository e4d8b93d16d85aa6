using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Notifier;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Notifier;

/// The saga publishes an outcome again when a trigger of a finished run is redelivered, and a
/// DeliverNotification can be redelivered after a crash: each channel still delivers it once.
public sealed class When_an_outcome_arrives_again : HarnessFixture
{
    private TestWebhook _webhook = null!;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(webhook: _webhook.Url.ToString()));

    [OneTimeSetUp]
    public async Task StartWebhook() => _webhook = await TestWebhook.StartAsync();

    [OneTimeTearDown]
    public async Task StopWebhook() => await _webhook.DisposeAsync();

    [SetUp]
    public void Reset() => _webhook.Reset();

    protected override void ConfigureServices(IServiceCollection services) => services.AddNotifier();

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddNotifierConsumers();

    [Test]
    public async Task Should_post_an_outcome_published_twice_once()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);

        await Harness.Bus.Publish(completed);
        await _webhook.WaitForPostsAsync(1);
        await Harness.Bus.Publish(completed);
        await Quiet();

        Assert.That(_webhook.Received, Has.Count.EqualTo(1));
        Assert.That(Harness.Consumed.Select<DeliverNotification>().Count(), Is.EqualTo(2), "both copies reached the channel's consumer");
    }

    [Test]
    public async Task Should_post_two_copies_that_arrive_together_once()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);

        await Task.WhenAll(Harness.Bus.Publish(completed), Harness.Bus.Publish(completed), Harness.Bus.Publish(completed));
        await Quiet();

        Assert.That(_webhook.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_give_the_webhook_an_idempotency_key_naming_the_outcome()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(Completed(runId, steps: 2));
        await _webhook.WaitForPostsAsync(1);

        Assert.That(_webhook.IdempotencyKeys.Single(), Is.EqualTo($"run.completed:{runId}:2"));
    }

    [Test]
    public async Task Should_post_a_run_that_ends_again_after_more_steps_as_a_new_outcome()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(Completed(runId, steps: 2));
        await Harness.Bus.Publish(Completed(runId, steps: 5));
        await Quiet();

        Assert.That(_webhook.IdempotencyKeys, Is.EquivalentTo(new[] { $"run.completed:{runId}:2", $"run.completed:{runId}:5" }));
    }

    [Test]
    public async Task Should_try_again_after_a_failed_post_and_then_not_post_a_later_copy()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);
        _webhook.AnswerNextWith(StatusCodes.Status503ServiceUnavailable);

        await Harness.Bus.Publish(completed);
        await _webhook.WaitForPostsAsync(2);
        await Harness.Bus.Publish(completed);
        await Quiet();

        Assert.That(_webhook.Received, Has.Count.EqualTo(2), "the failed attempt and its retry; the later copy is not posted");
    }

    private static RunCompleted Completed(Guid runId, int steps) =>
        new(runId, "tenant-a", "assistant", "395", steps, new TokenUsage(10, 1), TimeSpan.FromSeconds(1));
}
