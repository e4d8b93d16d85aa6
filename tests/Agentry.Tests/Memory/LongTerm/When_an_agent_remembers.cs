using Agentry.Cli;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;
using Agentry.Agents;
using Agentry.ToolExecutor;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// The remember tool end to end on the harness bus: the ToolExecutor runs the call, Memory keeps the
/// item for the run's user (taken from the run's record) in the real SQLite store.
public sealed class When_an_agent_remembers : HarnessFixture
{
    private TempFolder _folder = null!;

    // The first step builds every tool and opens the store; the request to Memory is a second hop.
    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Parse("rememberer", """
            instructions: Remember what matters.
            tools: [remember]
            memory:
              long_term: true
            """),
        TestAgents.Parse("forgetful", """
            instructions: Remember what matters.
            tools: [remember]
            """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        _folder = new TempFolder();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString })
            .Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddAgentTools(configuration);
        services.AddToolExecutor(configuration);
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ExecuteStepConsumer>();
        bus.AddMemoryConsumers();
    }

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private IMemoryItemStore Items => Provider.GetRequiredService<IMemoryItemStore>();

    private async Task<Guid> StartRun(string agent, string? user)
    {
        var runId = NewId.NextGuid();
        await Provider.GetRequiredService<ITranscriptStore>().StartRunAsync(new RunStart(runId, "acme", agent, "Plan my trip", null, Clock.GetUtcNow(), user), CancellationToken.None);
        return runId;
    }

    private static StepPlanned Remember(Guid runId, string agent, string text = "Prefers answers in French.", string kind = "preference") =>
        new(runId, "acme", agent, 1, 8, null,
            [new ToolCall("call_1_1", "remember", JsonSerializer.SerializeToElement(new { text, kind }))],
            null, new TokenUsage(1, 1), "m");

    // Each delivery of the step answers with its own ToolResult, in the delivery's conversation.
    private async Task<ToolOutcome> OutcomeOf(StepPlanned step)
    {
        var delivery = NewId.NextGuid();
        await Harness.Bus.Publish(step, context => context.ConversationId = delivery);
        var result = await Eventually.Find(Harness.Published, m => m.Context.ConversationId == delivery && m.MessageType == typeof(ToolResult), "the ToolResult of the step");
        return ((ToolResult)result.MessageObject).Outcomes.Single();
    }

    [Test]
    public async Task Should_keep_the_item_for_the_runs_user_with_the_run_as_its_source()
    {
        var runId = await StartRun("rememberer", "ada");

        var outcome = await OutcomeOf(Remember(runId, "rememberer"));

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.None), outcome.Error);
        var item = (await Items.ListItemsAsync("acme", "ada", CancellationToken.None)).Single();
        Assert.That((item.Text, item.Kind, item.SourceRunId, item.Id), Is.EqualTo(("Prefers answers in French.", MemoryKind.Preference, (Guid?)runId, MemoryItemIds.For(runId, "call:call_1_1"))));
        Assert.That(outcome.Output, Is.EqualTo($"Remembered as a preference about the user (memory {item.Id})."));
        Assert.That(await Items.ListItemsAsync("globex", "ada", CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_keep_the_item_once_when_the_step_is_delivered_again()
    {
        var runId = await StartRun("rememberer", "ada");

        var first = await OutcomeOf(Remember(runId, "rememberer"));
        var second = await OutcomeOf(Remember(runId, "rememberer"));

        Assert.That(second.Output, Is.EqualTo(first.Output));
        Assert.That(await Items.ListItemsAsync("acme", "ada", CancellationToken.None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_keep_the_item_once_when_memory_receives_the_request_twice()
    {
        var runId = await StartRun("rememberer", "ada");
        var client = Harness.GetRequestClient<RememberMemory>();
        var request = new RememberMemory(runId, "acme", "call_3_1", "Lives in Lyon.", MemoryItemKind.Fact);

        var first = (await client.GetResponse<MemoryRemembered>(request)).Message;
        var again = (await client.GetResponse<MemoryRemembered>(request)).Message;

        Assert.That((first.Problem, first.UserId, first.AlreadyKnown), Is.EqualTo(((string?)null, "ada", false)));
        Assert.That(again.ItemId, Is.EqualTo(first.ItemId));
        var items = await Items.ListItemsAsync("acme", "ada", CancellationToken.None);
        Assert.That(items.Select(i => (i.Id, i.Text, i.Kind)), Is.EqualTo(new[] { (first.ItemId, "Lives in Lyon.", MemoryKind.Fact) }));
    }

    [Test]
    public async Task Should_not_add_what_the_user_already_has_in_other_words_of_case_and_spacing()
    {
        var runId = await StartRun("rememberer", "ada");
        await OutcomeOf(Remember(runId, "rememberer", "Lives in Lyon.", "fact"));
        var later = await StartRun("rememberer", "ada");

        var outcome = await OutcomeOf(Remember(later, "rememberer", "lives  in LYON", "fact"));

        var item = (await Items.ListItemsAsync("acme", "ada", CancellationToken.None)).Single();
        Assert.That(outcome.Output, Is.EqualTo($"Already remembered: the user has this fact as memory {item.Id}."));
    }

    [Test]
    public async Task Should_refuse_an_agent_without_long_term_memory()
    {
        var runId = await StartRun("forgetful", "ada");

        var outcome = await OutcomeOf(Remember(runId, "forgetful"));

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Does.Contain("Agent 'forgetful' has no long-term memory").And.Contain("long_term: true"));
        Assert.That(await Items.ListItemsAsync("acme", "ada", CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_refuse_a_run_without_a_user()
    {
        var runId = await StartRun("rememberer", user: null);

        var outcome = await OutcomeOf(Remember(runId, "rememberer"));

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Does.StartWith($"Run {runId} has no user").And.Contain("--user"));
    }
}
