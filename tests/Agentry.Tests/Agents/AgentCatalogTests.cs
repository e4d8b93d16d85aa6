using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

[TestFixture]
public sealed class When_the_agents_folder_is_loaded
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "agentry-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void Write(string file, string yaml) => File.WriteAllText(Path.Combine(_folder, file), yaml);

    private AgentCatalogException ErrorForFolder()
    {
        var error = Assert.Throws<AgentCatalogException>(() => AgentCatalog.LoadDirectory(_folder, ShippedTools.Catalog));
        return error ?? throw new AssertionException("No AgentCatalogException.");
    }

    [Test]
    public void Should_load_every_yaml_file_of_the_folder()
    {
        Write("calc.yaml", "instructions: Calculate.\ntools: [calculator]\n");
        Write("clock.yml", "instructions: Tell the time.\ntools: [current_time]\n");
        Write("README.md", "not an agent: [");
        Write("notes.txt", "instructions: ignored");

        var catalog = AgentCatalog.LoadDirectory(_folder, ShippedTools.Catalog);

        Assert.That(catalog.All.Select(a => a.Name), Is.EqualTo<string[]>(["calc", "clock"]));
        Assert.That(catalog.Find("calc")!.Tools.Select(t => t.Name), Is.EqualTo<string[]>(["calculator"]));
        Assert.That(catalog.Find("calc")!.SourceFile, Is.EqualTo(Path.Combine(_folder, "calc.yaml")));
        Assert.That(catalog.Find("notes"), Is.Null);
    }

    [Test]
    public void Should_load_an_empty_folder_as_an_empty_catalog()
    {
        var catalog = AgentCatalog.LoadDirectory(_folder, ShippedTools.Catalog);

        Assert.That(catalog.All, Is.Empty);
        Assert.That(catalog.DescribeUnknown("assistant"), Is.EqualTo("Unknown agent 'assistant': no agents are defined."));
    }

    [Test]
    public void Should_report_every_problem_of_every_bad_file_at_once()
    {
        Write("good.yaml", "instructions: Fine.\n");
        Write("bad-tool.yaml", "instructions: Work.\ntools:\n  - calculator\n  - shell\n");
        Write("bad-limit.yaml", "instructions: Work.\nlimits:\n  max_steps: 0\n");
        Write("no-instructions.yaml", "description: Nothing to do.\n");

        var error = ErrorForFolder();

        Assert.That(error.Problems.Select(p => Path.GetFileName(p.File)),
            Is.EqualTo<string[]>(["bad-limit.yaml", "bad-tool.yaml", "no-instructions.yaml"]));
        Assert.That(error.Problems.Select(p => (p.Line, p.Column)), Is.EqualTo(new[] { (3L, 14L), (4L, 5L), (1L, 1L) }));
        Assert.That(error.Message, Does.StartWith($"The agent definitions in {_folder} have 3 problem(s):"));
        Assert.Multiple(() =>
        {
            foreach (var problem in error.Problems)
            {
                Assert.That(error.Message, Does.Contain(problem.Message));
                Assert.That(problem.Message, Does.StartWith($"{Path.Combine(_folder, Path.GetFileName(problem.File))}:{problem.Line}:{problem.Column}: "));
            }
        });
    }

    [Test]
    public void Should_report_an_agent_defined_in_two_files()
    {
        Write("helper.yaml", "instructions: Help.\n");
        Write("helper.yml", "instructions: Help again.\n");

        var error = ErrorForFolder();

        Assert.That(error.Problems, Has.Count.EqualTo(1));
        Assert.That(error.Problems[0].File, Is.EqualTo(Path.Combine(_folder, "helper.yml")));
        Assert.That(error.Problems[0].Problem, Is.EqualTo($"agent 'helper' is defined twice (also in {Path.Combine(_folder, "helper.yaml")})."));
    }

    [Test]
    public void Should_say_where_it_looked_when_the_folder_is_missing()
    {
        var missing = Path.Combine(_folder, "no-such-agents");

        var error = Assert.Throws<DirectoryNotFoundException>(() => AgentCatalog.LoadDirectory(missing, ShippedTools.Catalog));

        Assert.That(error!.Message, Does.StartWith($"No agents folder at {missing}. "));
        Assert.That(error.Message, Does.Contain("Agents:Path").And.Contain("Agents__Path").And.Contain("--agents"));
    }

    [Test]
    public void Should_find_an_agent_by_exact_name_and_describe_an_unknown_one()
    {
        var catalog = TestAgents.Catalog(TestAgents.Assistant(), TestAgents.Parse("writer", "instructions: Write."));

        Assert.That(catalog.Find("assistant"), Is.Not.Null);
        Assert.That(catalog.Find("Assistant"), Is.Null);
        Assert.That(catalog.DescribeUnknown("asistant"), Is.EqualTo("Unknown agent 'asistant'. Known agents: assistant, writer."));
    }

    [Test]
    public void Should_load_the_repository_s_own_agents()
    {
        var catalog = AgentCatalog.LoadDirectory(TestAgents.RepositoryAgentsFolder(), ShippedTools.Catalog);

        var assistant = catalog.Find("assistant");
        Assert.That(assistant, Is.Not.Null);
        Assert.That(assistant!.Tools.Select(t => t.Name), Is.EqualTo<string[]>(["calculator", "current_time", "http_get"]));
        Assert.That(assistant.Instructions, Is.Not.Empty);
    }
}
