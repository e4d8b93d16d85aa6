using System.Text.Json;
using Agentry.Contracts;
using Agentry.Notifier;
using Agentry.Agents;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Notifier;

public sealed class When_a_run_ends : HarnessFixture
{
    private TestWebhook _webhook = null!;

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Assistant(webhook: _webhook.Url.ToString()),
        TestAgents.Parse("quiet", "instructions: no webhook here"));

    [OneTimeSetUp]
    public async Task StartWebhook() => _webhook = await TestWebhook.StartAsync();

    [OneTimeTearDown]
    public async Task StopWebhook() => await _webhook.DisposeAsync();

    [SetUp]
    public void Reset() => _webhook.Reset();

    protected override void ConfigureServices(IServiceCollection services) => services.AddNotifier();

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddNotifierConsumers();

    [Test]
    public async Task Should_post_each_call_waiting_for_approval_with_where_to_decide_it()
    {
        var runId = NewId.NextGuid();
        var expires = new DateTimeOffset(2026, 11, 25, 12, 30, 0, TimeSpan.Zero);

        await Harness.Bus.Publish(new ApprovalRequested(runId, "tenant-a", "assistant", 1,
            [new ToolCall("call_1_1", "http_get", JsonDocument.Parse("""{"url":"https://example.com"}""").RootElement.Clone())], expires, "Deny", "Fetch it.", "Read example.com"));
        await _webhook.First.WaitAsync(TimeSpan.FromSeconds(10));

        var body = _webhook.Received.Single();
        Assert.That(body.GetProperty("event").GetString(), Is.EqualTo("approval.requested"));
        Assert.That((body.GetProperty("runId").GetGuid(), body.GetProperty("callId").GetString(), body.GetProperty("tool").GetString()), Is.EqualTo((runId, "call_1_1", "http_get")));
        Assert.That(body.GetProperty("arguments").GetProperty("url").GetString(), Is.EqualTo("https://example.com"));
        Assert.That(body.GetProperty("expiresAt").GetDateTimeOffset(), Is.EqualTo(expires));
        Assert.That(body.GetProperty("decide").GetString(), Is.EqualTo($"POST /runs/{runId}/approvals/call_1_1"));
    }

    [Test]
    public async Task Should_post_the_outcome_as_json_to_the_agents_webhook()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunCompleted(runId, "tenant-a", "assistant", "395", 2, new TokenUsage(400, 30), TimeSpan.FromMilliseconds(850), TotalCost: 0.0125m));
        await _webhook.First.WaitAsync(TimeSpan.FromSeconds(10));

        var body = _webhook.Received.Single();
        Assert.That(body.GetProperty("event").GetString(), Is.EqualTo("run.completed"));
        Assert.That(body.GetProperty("runId").GetGuid(), Is.EqualTo(runId));
        Assert.That(body.GetProperty("answer").GetString(), Is.EqualTo("395"));
        Assert.That(body.GetProperty("steps").GetInt32(), Is.EqualTo(2));
        Assert.That(body.GetProperty("usage").GetProperty("inputTokens").GetInt32(), Is.EqualTo(400));
        Assert.That(body.GetProperty("durationMs").GetDouble(), Is.EqualTo(850));
        Assert.That(body.GetProperty("totalCost").GetDecimal(), Is.EqualTo(0.0125m));
    }

    [Test]
    public async Task Should_post_a_failure_with_its_reason()
    {
        await Harness.Bus.Publish(new RunFailed(NewId.NextGuid(), "tenant-a", "assistant", "Step limit reached.", 8, TokenUsage.None, TimeSpan.FromSeconds(1)));
        await _webhook.First.WaitAsync(TimeSpan.FromSeconds(10));

        var body = _webhook.Received.Single();
        Assert.That((body.GetProperty("event").GetString(), body.GetProperty("status").GetString(), body.GetProperty("reason").GetString()),
            Is.EqualTo(("run.failed", "Failed", "Step limit reached.")));
    }

    [Test]
    public async Task Should_only_log_when_the_agent_names_no_webhook()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunCompleted(runId, "tenant-a", "quiet", "ok", 1, TokenUsage.None, TimeSpan.Zero));

        Assert.That(await Harness.Consumed.Any<RunCompleted>(m => m.Context.Message.RunId == runId));
        await Quiet();
        Assert.That(_webhook.Received, Is.Empty);
        Assert.That(await Harness.Published.Any<Fault<RunCompleted>>(), Is.False);
    }

    [Test]
    public async Task Should_retry_a_failing_webhook_and_fault_rather_than_drop_the_outcome()
    {
        _webhook.Status = StatusCodes.Status503ServiceUnavailable;
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunCompleted(runId, "tenant-a", "assistant", "395", 2, TokenUsage.None, TimeSpan.Zero));

        Assert.That(await Harness.Published.Any<Fault<DeliverNotification>>(m => m.Context.Message.Message.RunId == runId));
        var fault = Harness.Published.Select<Fault<DeliverNotification>>().First().Context.Message;
        Assert.That(fault.Message.Channel, Is.EqualTo("webhook"));
        Assert.That(fault.Exceptions.Single().Message, Does.Contain("answered 503"));
        Assert.That(_webhook.Received, Has.Count.EqualTo(7), "one attempt and six retries");
        Assert.That(await Harness.Published.Any<Fault<RunCompleted>>(), Is.False, "the outcome itself was handled: only the channel's delivery faulted");
    }
}
