using Agentry.Cli;

namespace Agentry.Tests.EndToEnd;

/// The sample of docs/memory.md, exactly as a user runs it in the embedded default with the offline
/// model: `agentry kb ingest handbook samples/handbook`, then `agentry run -a handbook "..."`.
public sealed class When_the_handbook_agent_answers_from_its_knowledge
{
    [Test]
    public async Task Should_answer_the_question_from_the_ingested_folder_and_cite_the_page()
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString };
        var agents = TestAgents.RepositoryAgentsFolder();
        var handbook = Path.Combine(Path.GetDirectoryName(agents)!, "samples", "handbook");
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var ingested = await KnowledgeCommands.IngestAsync("handbook", [handbook], "default", output, error, timeout.Token, settings);
        var ran = await Commands.RunAsync(
            new RunOptions("How many days of paid vacation does a full-time employee get?", "handbook", agents, null, Verbose: false, settings),
            output, error, timeout.Token);

        var text = output.ToString();
        Assert.That(ingested, Is.EqualTo(ExitCodes.Completed), text + error);
        Assert.That(text, Does.Contain("Ingested 5 files"));
        Assert.That(ran, Is.EqualTo(ExitCodes.Completed), text + error);
        Assert.That(text, Does.Contain("call     search_knowledge"));
        var answer = text[text.LastIndexOf("Answer:", StringComparison.Ordinal)..];
        Assert.That(answer, Does.Contain("27 days of paid vacation"), "the fact from samples/handbook/leave.md");
        Assert.That(answer, Does.Match(@"\[leave\.md, passage \d+\]"), "the cited source");
        Assert.That(answer, Does.Contain("offline model"), "labelled as a quote by the offline model");
    }

    [Test]
    public async Task Should_answer_from_the_knowledge_base_with_a_plan_and_execute_agent_too()
    {
        using var folder = new TempFolder();
        folder.Write("planner.yaml", """
            description: Plans, then answers from the handbook.
            instructions: Search the handbook, then answer with citations.
            strategy: plan-and-execute
            tools: [search_knowledge, calculator]
            memory:
              knowledge: [handbook]
            """);
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString };
        var handbook = Path.Combine(Path.GetDirectoryName(TestAgents.RepositoryAgentsFolder())!, "samples", "handbook");
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await KnowledgeCommands.IngestAsync("handbook", [handbook], "default", output, error, timeout.Token, settings);
        var ran = await Commands.RunAsync(
            new RunOptions("When must I report a lost laptop?", "planner", folder.Path, null, Verbose: false, settings),
            output, error, timeout.Token);

        var text = output.ToString();
        Assert.That(ran, Is.EqualTo(ExitCodes.Completed), text + error);
        var answer = text[text.LastIndexOf("Answer:", StringComparison.Ordinal)..];
        Assert.That(answer, Does.Contain("within one hour").And.Match(@"\[security\.md, passage \d+\]"));
    }
}
