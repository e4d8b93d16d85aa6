using Agentry.Cli;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;
using Agentry.Agents;
using Agentry.ToolExecutor;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Knowledge;

/// The search_knowledge tool end to end on the bus: the ToolExecutor runs the call and asks Memory
/// (SearchKnowledge, answered with KnowledgeFound), which owns the store.
public sealed class When_an_agent_searches_knowledge : HarnessFixture
{
    private readonly TempFolder _folder = new();

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Parse("reader", """
            instructions: Answer from the handbook.
            tools: [search_knowledge]
            memory:
              knowledge: [handbook, archive]
            """),
        TestAgents.Parse("forgetful", """
            instructions: Answer.
            tools: [search_knowledge]
            """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
        }).Build();
        services.AddAgentTools(configuration);
        services.AddToolExecutor(configuration);
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ExecuteStepConsumer, ExecuteStepConsumerDefinition>();
        bus.AddConsumer<SearchKnowledgeConsumer>();
    }

    [OneTimeTearDown]
    public void RemoveFolder() => _folder.Dispose();

    private async Task IngestHandbookAsync(string tenant = "acme")
    {
        var root = Path.Combine(_folder.Path, "handbook");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "leave.md"), "# Leave\n\nEvery employee gets 27 days of paid vacation per year.");
        File.WriteAllText(Path.Combine(root, "travel.md"), "# Travel\n\nThe hotel budget is 160 euros per night.");
        await Provider.GetRequiredService<KnowledgeBase>().IngestAsync(tenant, "handbook", [root], null, CancellationToken.None);
    }

    private async Task<ToolOutcome> CallAsync(string agent, string arguments, string tenant = "acme")
    {
        var step = new StepPlanned(Guid.NewGuid(), tenant, agent, 1, 4, "Searching.",
            [new ToolCall("c1", "search_knowledge", JsonDocument.Parse(arguments).RootElement.Clone())], null, new TokenUsage(1, 1), "m");
        await Harness.Bus.Publish(step);
        var result = await PublishedOne<ToolResult>(r => r.RunId == step.RunId);
        return result.Outcomes.Single();
    }

    [Test]
    public async Task Should_return_the_best_passages_with_their_citations()
    {
        await IngestHandbookAsync();

        var outcome = await CallAsync("reader", """{"query":"How many vacation days do I get?","collection":"handbook"}""");

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.None), outcome.Error);
        Assert.That(outcome.Output, Does.Match("^[12] passages? for \"How many vacation days do I get\\?\", best first. Cite them as shown in brackets.\n\n"));
        Assert.That(outcome.Output, Does.Contain("Cite them as shown in brackets.\n\n[leave.md, passage 1]\n# Leave\n\nEvery employee gets 27 days of paid vacation per year."), "the best passage first");
        Assert.That(await Harness.Consumed.Any<SearchKnowledge>(m => m.Context.Message.Agent == "reader"), "the search went over the bus to Memory");
    }

    [Test]
    public async Task Should_search_every_collection_of_the_agent_and_name_the_ones_not_ingested()
    {
        await IngestHandbookAsync();

        var outcome = await CallAsync("reader", """{"query":"hotel budget","limit":1}""");

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.None), outcome.Error);
        Assert.That(outcome.Output, Does.Contain("[travel.md, passage 1]").And.Not.Contain("leave.md"));
        Assert.That(outcome.Output, Does.EndWith("(Not searched, no documents ingested: archive.)"));
    }

    [Test]
    public async Task Should_refuse_a_collection_the_agent_does_not_list()
    {
        await IngestHandbookAsync();

        var outcome = await CallAsync("reader", """{"query":"salaries","collection":"payroll"}""");

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Is.EqualTo("Agent 'reader' may not read the knowledge collection 'payroll'; it may read: handbook, archive."));
    }

    [Test]
    public async Task Should_refuse_an_agent_without_knowledge_collections()
    {
        var outcome = await CallAsync("forgetful", """{"query":"anything"}""");

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Does.StartWith("Agent 'forgetful' has no knowledge collections"));
    }

    [Test]
    public async Task Should_say_when_the_collection_was_never_ingested_for_the_tenant()
    {
        await IngestHandbookAsync(tenant: "acme");

        var outcome = await CallAsync("reader", """{"query":"vacation","collection":"handbook"}""", tenant: "globex");

        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(outcome.Error, Is.EqualTo("The knowledge collection 'handbook' has no documents for this tenant: ingest some with agentry kb ingest handbook PATH."));
    }
}
