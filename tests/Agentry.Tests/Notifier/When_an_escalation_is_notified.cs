using System.Collections.Concurrent;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Notifier;
using Agentry.Agents;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Notifier;

/// The escalation's summary comes from Memory's transcript, which can trail RunEscalated: the
/// Notifier asks again until the escalated step is recorded, and never withholds the escalation.
public sealed class When_an_escalation_is_notified : HarnessFixture
{
    private TestWebhook _webhook = null!;
    private readonly ConcurrentQueue<Guid> _asked = new();
    private Func<int, RunView?> _memory = _ => null;

    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Assistant(webhook: _webhook.Url.ToString()));

    [OneTimeSetUp]
    public async Task StartWebhook() => _webhook = await TestWebhook.StartAsync();

    [OneTimeTearDown]
    public async Task StopWebhook() => await _webhook.DisposeAsync();

    [SetUp]
    public void Reset()
    {
        _webhook.Reset();
        _asked.Clear();
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Notifier:SummaryTimeout"] = "00:00:00.2",
        }).Build());
        services.AddNotifier();
    }

    // Memory, played by the test: _memory says what it answers to the nth GetRun (null: no answer).
    protected override void ConfigureBus(IBusRegistrationConfigurator bus)
    {
        bus.AddNotifierConsumers();
        bus.AddHandler<GetRun>(async context =>
        {
            _asked.Enqueue(context.Message.RunId);
            if (_memory(_asked.Count) is { } view)
            {
                await context.RespondAsync(view);
            }
        });
    }

    private static RunEscalated Escalation(Guid runId) =>
        new(runId, "tenant-a", "assistant", "Loop detected: calculator repeated.", "Goal: Add 2 and 2", 2, new TokenUsage(20, 10), TimeSpan.FromSeconds(1));

    private static RunView Transcript(Guid runId, bool complete)
    {
        var call = new ToolCall("c1", "calculator", JsonDocument.Parse("""{"expression":"2 + 2"}""").RootElement.Clone());
        var outcome = new ToolOutcome("c1", "calculator", call.Arguments, "4", ToolErrorKind.None, null, TimeSpan.Zero);
        var step1 = new StepView(1, null, [call], [outcome], null, Verdict.Continue, "1 result", new TokenUsage(10, 5), "m");
        var step2 = new StepView(2, null, [call with { CallId = "c2" }], complete ? [outcome with { CallId = "c2" }] : [], null, complete ? Verdict.Escalate : null, complete ? "Loop detected" : null, new TokenUsage(10, 5), "m");
        return new RunView(runId, true, "tenant-a", "assistant", "Add 2 and 2", RunStatus.Escalated, null, "Loop detected", null, [step1, step2]);
    }

    [Test]
    public async Task Should_ask_memory_again_until_the_escalated_step_is_recorded()
    {
        var runId = NewId.NextGuid();
        _memory = n => Transcript(runId, complete: n >= 3);

        await Harness.Bus.Publish(Escalation(runId));
        var body = await _webhook.First.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(_asked, Has.Count.EqualTo(3));
        var summary = body.GetProperty("summary").GetString();
        Assert.That(summary, Does.Contain("Goal: Add 2 and 2").And.Contain("Step 2:").And.Contain("Evaluator: Escalate: Loop detected"));
        Assert.That(body.GetProperty("event").GetString(), Is.EqualTo("run.escalated"));
    }

    [Test]
    public async Task Should_send_what_memory_has_when_the_transcript_never_catches_up()
    {
        var runId = NewId.NextGuid();
        _memory = _ => Transcript(runId, complete: false);

        await Harness.Bus.Publish(Escalation(runId));
        var summary = (await _webhook.First.WaitAsync(TimeSpan.FromSeconds(20))).GetProperty("summary").GetString();

        Assert.That(_asked, Has.Count.EqualTo(5), "the first try and four more");
        Assert.That(summary, Does.Contain("Goal: Add 2 and 2").And.Contain("Step 2:"));
    }

    [Test]
    public async Task Should_send_the_sagas_summary_when_memory_does_not_answer()
    {
        var runId = NewId.NextGuid();
        _memory = _ => null;

        await Harness.Bus.Publish(Escalation(runId));
        var summary = (await _webhook.First.WaitAsync(TimeSpan.FromSeconds(30))).GetProperty("summary").GetString();

        Assert.That(summary, Does.Contain("The transcript could not be read from Memory").And.Contain("Goal: Add 2 and 2"));
        Assert.That(summary, Does.Contain("Why it stopped: Loop detected: calculator repeated."));
    }
}
