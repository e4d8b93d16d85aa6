using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

/// Tool policies checked against what each tool does, and `agent:NAME` sub-agents checked against
/// the other agents, each problem at its file and line.
public sealed class When_an_agent_names_sub_agents_and_policies_are_checked
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private static AgentDefinition Parse(string tools) =>
        AgentDefinitionLoader.Parse("policies.yaml", $"instructions: Work.\ntools:\n{tools}\n", ShippedTools.Catalog);

    [TestCase("  - name: write_file\n    read_only: true", 4, 16, "write_file changes something with every call, so it cannot be read_only")]
    [TestCase("  - name: http_post\n    read_only: true", 4, 16, "http_post changes something with every call, so it cannot be read_only")]
    [TestCase("  - name: calculator\n    allowed_hosts: [api.example.com]", 4, 20, "calculator.allowed_hosts does not apply: calculator reaches no host")]
    [TestCase("  - name: agent:helper\n    read_only: true", 4, 5, "unknown key 'read_only' in sub-agent 'agent:helper'")]
    [TestCase("  - name: agent:helper\n    allowed_hosts: [a.example.com]", 4, 5, "unknown key 'allowed_hosts' in sub-agent 'agent:helper'")]
    [TestCase("  - agent:Bad_Name", 3, 5, "'agent:Bad_Name' does not name an agent")]
    public void Should_refuse_a_policy_the_tool_cannot_keep_at_its_line(string tools, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse(tools))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Does.StartWith(problem));
    }

    [Test]
    public void Should_accept_read_only_on_a_tool_that_can_keep_it()
    {
        var agent = Parse("  - name: http_request\n    read_only: true\n  - name: sql_query\n    read_only: true\n  - name: agent:helper\n    max_calls: 2");

        Assert.That(agent.PolicyOf("http_request")!.ReadOnly, Is.True);
        Assert.That(agent.PolicyOf("sql_query")!.ReadOnly, Is.True);
        Assert.That(agent.PolicyOf("agent:helper")!.MaxCallsPerRun, Is.EqualTo(2));
        Assert.That(agent.SubAgents, Is.EqualTo(new[] { "helper" }));
    }

    [Test]
    public void Should_load_sub_agents_that_exist_without_a_cycle()
    {
        _folder.Write("helper.yaml", "instructions: Help.\ntools: [calculator]\n");
        _folder.Write("lead.yaml", "instructions: Lead.\ntools:\n  - agent:helper\n  - agent:middle\n");
        _folder.Write("middle.yaml", "instructions: Relay.\ntools: [agent:helper]\n");

        var catalog = AgentCatalog.LoadDirectory(_folder.Path, ShippedTools.Catalog);

        Assert.That(catalog.Find("lead")!.SubAgents, Is.EqualTo(new[] { "helper", "middle" }));
    }

    [Test]
    public void Should_name_the_file_and_line_of_an_unknown_sub_agent()
    {
        var file = _folder.Write("lead.yaml", "instructions: Lead.\ntools:\n  - calculator\n  - agent:ghost\n");

        var error = Assert.Throws<AgentCatalogException>(() => AgentCatalog.LoadDirectory(_folder.Path, ShippedTools.Catalog))!;

        Assert.That(error.Problems.Single().Message, Is.EqualTo($"{file}:4:5: unknown agent 'ghost' in agent:ghost. Defined agents: lead."));
    }

    [Test]
    public void Should_refuse_an_agent_that_calls_itself()
    {
        var file = _folder.Write("loop.yaml", "instructions: Loop.\ntools:\n  - name: agent:loop\n    max_calls: 1\n");

        var error = Assert.Throws<AgentCatalogException>(() => AgentCatalog.LoadDirectory(_folder.Path, ShippedTools.Catalog))!;

        Assert.That(error.Problems.Single().Message, Does.StartWith($"{file}:3:11: agent:loop makes a cycle of sub-agents (loop -> loop)"));
    }

    [Test]
    public void Should_refuse_a_cycle_through_other_agents_at_each_reference()
    {
        var a = _folder.Write("a.yaml", "instructions: A.\ntools: [agent:b]\n");
        var b = _folder.Write("b.yaml", "instructions: B.\ntools: [calculator, agent:c]\n");
        var c = _folder.Write("c.yaml", "instructions: C.\ntools: [agent:a]\n");

        var error = Assert.Throws<AgentCatalogException>(() => AgentCatalog.LoadDirectory(_folder.Path, ShippedTools.Catalog))!;

        Assert.That(error.Problems.Select(p => p.Message), Is.EqualTo(new[]
        {
            $"{a}:2:9: agent:b makes a cycle of sub-agents (a -> b -> c -> a): an agent may not call itself, directly or through other agents.",
            $"{b}:2:21: agent:c makes a cycle of sub-agents (b -> c -> a -> b): an agent may not call itself, directly or through other agents.",
            $"{c}:2:9: agent:a makes a cycle of sub-agents (c -> a -> b -> c): an agent may not call itself, directly or through other agents.",
        }));
    }

    [Test]
    public void Should_refuse_an_unknown_sub_agent_in_a_catalog_built_in_code()
    {
        var lead = TestAgents.Parse("lead", "instructions: Lead.\ntools: [agent:ghost]\n");

        Assert.Throws<AgentCatalogException>(() => TestAgents.Catalog(lead));
    }

    [TestCase("https://api.example.com/x", true)]
    [TestCase("https://API.Example.com:8443/x", true)]
    [TestCase("https://a.cdn.example.org/x", true)]
    [TestCase("https://deep.a.cdn.example.org/x", true)]
    [TestCase("https://example.org/x", false)]
    [TestCase("https://evilexample.org/x", false)]
    [TestCase("https://api.example.com.evil.net/x", false)]
    [TestCase("https://internal.example.net:8443/x", true)]
    [TestCase("https://internal.example.net/x", false)]
    [TestCase("https://127.0.0.1/x", false)]
    public void Should_match_allowed_hosts_exactly_or_below_a_wildcard(string url, bool allowed)
    {
        var policy = ToolPolicy.Unrestricted with { AllowedHosts = ["api.example.com", "*.example.org", "internal.example.net:8443"] };

        Assert.That(policy.AllowsHost(new Uri(url)), Is.EqualTo(allowed));
    }
}
