using Agentry.Contracts;
using Agentry.Memory;
using Agentry.Agents;
using Agentry.Tests.Llm;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// Extraction of long-term memory at the end of a run, through the real OpenAI connector against the
/// scripted fake: what the model proposes is checked, deduplicated and kept for the run's user.
public sealed class When_a_run_teaches_about_its_user : HarnessFixture
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Parse("learner", """
            instructions: Help.
            memory:
              long_term: true
            """),
        TestAgents.Parse("plain", """
            instructions: Help.
            """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        var settings = LlmStack.Provider("fake", _fake, more: [("Model", "extract-fake"), ("MaxRetries", "0")])
            .Append((Key: "ConnectionStrings:sqlite", Value: (string?)_folder.SqliteConnectionString))
            .Append((Key: "Llm:Prices:extract-fake:InputPerMillion", Value: "2"))
            .Append((Key: "Llm:Prices:extract-fake:OutputPerMillion", Value: "10"));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<MemoryExtractionConsumer>();

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    private IMemoryItemStore Items => Provider.GetRequiredService<IMemoryItemStore>();

    private async Task<Guid> Complete(string agent = "learner", string? user = "ada", Guid? runId = null)
    {
        var run = runId ?? NewId.NextGuid();
        var transcripts = Provider.GetRequiredService<ITranscriptStore>();
        await transcripts.StartRunAsync(new RunStart(run, "acme", agent, "I live in Lyon; what is 20 km in miles? Always use metric next time.", null, Clock.GetUtcNow(), user), CancellationToken.None);
        var delivery = NewId.NextGuid();
        await Harness.Bus.Publish(new RunCompleted(run, "acme", agent, "About 12.4 miles.", 1, new TokenUsage(10, 5), TimeSpan.FromSeconds(1)), context => context.MessageId = delivery);
        await Eventually.Find(Harness.GetConsumerHarness<MemoryExtractionConsumer>().Consumed, m => m.Context.MessageId == delivery, "the extraction at the end of the run");
        return run;
    }

    private const string Proposal = """
        {"memories": [
          {"text": "Lives in Lyon.", "kind": "fact"},
          {"text": "Prefers metric units", "kind": "preference"},
          {"text": "lives in  LYON", "kind": "fact"}
        ]}
        """;

    [Test]
    public async Task Should_keep_what_is_new_with_the_run_as_its_source()
    {
        await Items.AddItemAsync(new MemoryItem(Guid.NewGuid(), "acme", "ada", "Prefers metric units.", MemoryKind.Preference, null, Clock.GetUtcNow()), CancellationToken.None);
        _fake.ReplyWithAnswer(Proposal);

        var run = await Complete();

        var items = await Items.ListItemsAsync("acme", "ada", CancellationToken.None);
        Assert.That(items.Select(i => (i.Text, i.Kind, i.SourceRunId)), Is.EqualTo(new (string, MemoryKind, Guid?)[]
        {
            ("Prefers metric units.", MemoryKind.Preference, null),
            ("Lives in Lyon.", MemoryKind.Fact, run),
        }));
        var request = _fake.Requests.Single();
        Assert.That(request.Model, Is.EqualTo("extract-fake"));
        var messages = request.Messages.EnumerateArray().Select(m => m.GetProperty("content").GetString()).ToList();
        Assert.That(messages[0], Does.Contain("durable facts and preferences"));
        Assert.That(messages[1], Does.Contain("User's goal: I live in Lyon").And.Contain("Agent's final answer: About 12.4 miles."));
    }

    [Test]
    public async Task Should_record_what_asking_cost_on_the_run_apart_from_what_its_end_reported()
    {
        _fake.Enqueue(FakeReply.Answer("The user lives in Lyon.", promptTokens: 1_000, completionTokens: 100))
            .Enqueue(FakeReply.Answer(Proposal, promptTokens: 2_000, completionTokens: 50));
        var transcripts = Provider.GetRequiredService<ITranscriptStore>();

        var run = await Complete();
        await Complete(runId: run);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "learner", RunStatus.Completed, "About 12.4 miles.", null, 1, new TokenUsage(10, 5), Clock.GetUtcNow(), 0.01m), CancellationToken.None);

        // Both attempts (the reply that was not JSON, then the re-ask) at $2 in and $10 out per million:
        // $0.003 and $0.0045. The end delivered again asked again (the cache or the fake): the first record stays.
        var view = await transcripts.GetAsync("acme", run, CancellationToken.None);
        Assert.That((view.ExtractionUsage, view.ExtractionCost), Is.EqualTo((new TokenUsage(3_000, 150), 0.0075m)));
        Assert.That((view.Usage, view.TotalCost), Is.EqualTo((new TokenUsage(10, 5), 0.01m)), "the run's own totals are what its end reported");
        var day = (await transcripts.TotalsAsync(new GetRunTotals("acme", Clock.GetUtcNow().AddDays(-1), Clock.GetUtcNow().AddDays(1), "learner"), CancellationToken.None)).Single();
        Assert.That((day.Usage, day.Cost), Is.EqualTo((new TokenUsage(3_010, 155), 0.0175m)), "the agent's day counts what learning from its runs cost");
    }

    [Test]
    public async Task Should_add_nothing_twice_when_the_end_of_the_run_is_delivered_again()
    {
        _fake.ReplyWithAnswer(Proposal).ReplyWithAnswer(Proposal);

        var run = await Complete();
        await Complete(runId: run);

        // The second ask may be answered by the response cache (the request is identical): either way, one item each.
        Assert.That((await Items.ListItemsAsync("acme", "ada", CancellationToken.None)).Select(i => i.Text), Is.EqualTo(new[] { "Lives in Lyon.", "Prefers metric units" }));
    }

    [Test]
    public async Task Should_ask_again_once_then_keep_nothing_when_the_reply_is_not_the_json_asked_for()
    {
        _fake.ReplyWithAnswer("The user lives in Lyon.").ReplyWithAnswer("""{"memories": [{"text": "Lives in Lyon."}]}""");

        await Complete();

        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var reask = _fake.Requests[1].Messages.EnumerateArray().Last().GetProperty("content").GetString();
        Assert.That(reask, Does.StartWith("Your reply could not be used: the reply is not valid JSON"));
        Assert.That(await Items.ListItemsAsync("acme", "ada", CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_keep_nothing_when_the_model_answers_with_a_broken_body()
    {
        _fake.ReplyWithMalformedJson();

        await Complete();

        Assert.That(await Items.ListItemsAsync("acme", "ada", CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_not_ask_the_model_for_an_agent_without_long_term_memory()
    {
        await Complete(agent: "plain");

        Assert.That(_fake.RequestCount, Is.Zero);
    }

    [Test]
    public async Task Should_not_ask_the_model_for_a_run_without_a_user()
    {
        await Complete(user: null);

        Assert.That(_fake.RequestCount, Is.Zero);
    }
}
