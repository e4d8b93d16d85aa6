using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Notifier;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Notifier;

/// The saga publishes an outcome again when a trigger of a finished run is redelivered, and a
/// DeliverNotification can be redelivered after a crash: each channel still delivers it once.
public sealed class When_an_outcome_arrives_again : HarnessFixture
{
    private WebApplication _webhook = null!;
    private Uri _webhookBase = null!;
    private readonly List<(string? Key, string Event)> _posts = [];
    private readonly Queue<int> _statuses = new();
    private SemaphoreSlim _posted = new(0);

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(webhook: new Uri(_webhookBase, "/hook").ToString()));

    [OneTimeSetUp]
    public async Task StartWebhook() =>
        (_webhook, _webhookBase) = await LocalHttpServer.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await JsonDocument.ParseAsync(request.Body);
            lock (_posts)
            {
                _posts.Add((request.Headers["Idempotency-Key"].FirstOrDefault(), body.RootElement.GetProperty("event").GetString()!));
                _posted.Release();
                return Results.StatusCode(_statuses.TryDequeue(out var status) ? status : StatusCodes.Status204NoContent);
            }
        }));

    [OneTimeTearDown]
    public async Task StopWebhook() => await _webhook.DisposeAsync();

    [SetUp]
    public void Reset()
    {
        _posts.Clear();
        _statuses.Clear();
        _posted = new SemaphoreSlim(0);
    }

    protected override void ConfigureServices(IServiceCollection services) => services.AddNotifier();

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddNotifierConsumers();

    [Test]
    public async Task Should_post_an_outcome_published_twice_once()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);

        await Harness.Bus.Publish(completed);
        await PostedAsync(1);
        await Harness.Bus.Publish(completed);
        await Quiet();

        Assert.That(Posts(), Has.Count.EqualTo(1));
        Assert.That(Harness.Consumed.Select<DeliverNotification>().Count(), Is.EqualTo(2), "both copies reached the channel's consumer");
    }

    [Test]
    public async Task Should_post_two_copies_that_arrive_together_once()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);

        await Task.WhenAll(Harness.Bus.Publish(completed), Harness.Bus.Publish(completed), Harness.Bus.Publish(completed));
        await Quiet();

        Assert.That(Posts(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_give_the_webhook_an_idempotency_key_naming_the_outcome()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(Completed(runId, steps: 2));
        await PostedAsync(1);

        Assert.That(Posts().Single().Key, Is.EqualTo($"run.completed:{runId}:2"));
    }

    [Test]
    public async Task Should_post_a_run_that_ends_again_after_more_steps_as_a_new_outcome()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(Completed(runId, steps: 2));
        await Harness.Bus.Publish(Completed(runId, steps: 5));
        await Quiet();

        Assert.That(Posts().Select(p => p.Key), Is.EquivalentTo(new[] { $"run.completed:{runId}:2", $"run.completed:{runId}:5" }));
    }

    [Test]
    public async Task Should_try_again_after_a_failed_post_and_then_not_post_a_later_copy()
    {
        var completed = Completed(NewId.NextGuid(), steps: 2);
        _statuses.Enqueue(StatusCodes.Status503ServiceUnavailable);

        await Harness.Bus.Publish(completed);
        await PostedAsync(2);
        await Harness.Bus.Publish(completed);
        await Quiet();

        Assert.That(Posts(), Has.Count.EqualTo(2), "the failed attempt and its retry; the later copy is not posted");
    }

    private static RunCompleted Completed(Guid runId, int steps) =>
        new(runId, "tenant-a", "assistant", "395", steps, new TokenUsage(10, 1), TimeSpan.FromSeconds(1));

    private async Task PostedAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.That(await _posted.WaitAsync(TimeSpan.FromSeconds(20)), Is.True, $"the webhook did not receive {count} post(s) within 20 s");
        }
    }

    private List<(string? Key, string Event)> Posts()
    {
        lock (_posts)
        {
            return [.. _posts];
        }
    }
}
