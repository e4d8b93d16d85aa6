using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

/// Tool policies (a tool listed as a mapping) and the `memory:` section of agents/NAME.yaml.
public sealed class When_an_agent_declares_tool_policies_and_memory
{
    private static AgentDefinition Parse(string yaml) =>
        AgentDefinitionLoader.Parse("policies.yaml", yaml, ShippedTools.Catalog.Names.ToHashSet());

    [Test]
    public void Should_read_each_tools_policy_and_leave_plain_names_unrestricted()
    {
        var agent = Parse("""
            instructions: Work.
            tools:
              - calculator
              - name: http_get
                allowed_hosts: [api.example.com, "*.example.org"]
                max_calls: 3
              - name: http_post
                needs_approval: true
                read_only: false
            """);

        Assert.That(agent.PolicyOf("calculator"), Is.SameAs(ToolPolicy.Unrestricted));
        var get = agent.PolicyOf("http_get")!;
        Assert.That((get.AllowedHosts, get.MaxCallsPerRun, get.NeedsApproval, get.ReadOnly),
            Is.EqualTo((new[] { "api.example.com", "*.example.org" }, (int?)3, false, false)));
        Assert.That(agent.PolicyOf("http_post")!.NeedsApproval, Is.True);
        Assert.That(agent.PolicyOf("current_time"), Is.Null, "a tool the agent does not list has no policy");
    }

    [TestCase("  - name: http_get\n    max_calls: 0", 4, 16, "http_get.max_calls must be a whole number from 1 to 10,000, not '0'.")]
    [TestCase("  - name: http_get\n    allowed_hosts: [http://x.com]", 4, 21, "'http://x.com' in http_get.allowed_hosts is not a host name such as api.example.com or *.example.com, optionally with :port.")]
    [TestCase("  - name: http_get\n    approve: true", 4, 5, "unknown key 'approve' in tool 'http_get'. Allowed keys: name, allowed_hosts, read_only, max_calls, needs_approval, settings.")]
    [TestCase("  - max_calls: 2", 3, 5, "a tool given as a mapping needs a 'name'.")]
    [TestCase("  - name: rm_rf", 3, 11, "unknown tool 'rm_rf'. Known tools: ")]
    public void Should_name_the_line_of_a_bad_policy(string tools, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"instructions: Work.\ntools:\n{tools}\n"))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Does.StartWith(problem));
    }

    [Test]
    public void Should_give_a_tool_the_settings_it_declares()
    {
        var agent = AgentDefinitionLoader.Parse("policies.yaml", """
            instructions: Work.
            tools:
              - name: refund_order
                settings:
                  escalate_above: "500.00"
              - calculator
            """, ShippedTools.Catalog);

        Assert.That(agent.PolicyOf("refund_order")!.Settings, Is.EqualTo(new Dictionary<string, string> { ["escalate_above"] = "500.00" }));
        Assert.That(agent.PolicyOf("calculator")!.Settings, Is.Empty);
    }

    [TestCase("  - name: refund_order\n    settings:\n      escalate_over: 500", 5, 7, "unknown key 'escalate_over' in refund_order.settings. Allowed keys: escalate_above.")]
    [TestCase("  - name: calculator\n    settings:\n      precision: 3", 5, 7, "calculator takes no settings: remove calculator.settings.")]
    [TestCase("  - name: refund_order\n    settings: 500", 4, 15, "refund_order.settings must be a mapping of keys to values.")]
    [TestCase("  - name: refund_order\n    settings:\n      escalate_above: [1, 2]", 5, 23, "refund_order.settings.escalate_above must be a single value.")]
    public void Should_name_the_line_of_a_setting_the_tool_does_not_take(string tools, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => AgentDefinitionLoader.Parse("policies.yaml", $"instructions: Work.\ntools:\n{tools}\n", ShippedTools.Catalog))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Is.EqualTo(problem));
    }

    [Test]
    public void Should_read_the_memory_section_and_default_what_it_omits()
    {
        var agent = Parse("""
            instructions: Work.
            memory:
              context_tokens: 4000
              long_term: true
              knowledge: [handbook, faq_2026]
              retrieve: 3
            """);

        Assert.That(agent.Memory, Is.EqualTo(AgentMemory.Default with { ContextTokens = 4000, LongTerm = true, Knowledge = agent.Memory.Knowledge, Retrieve = 3 }));
        Assert.That(agent.Memory.Knowledge, Is.EqualTo(new[] { "handbook", "faq_2026" }));
        Assert.That(Parse("instructions: Work.").Memory, Is.SameAs(AgentMemory.Default));
    }

    [TestCase("retrieve: 2", 3, 13, "memory.retrieve needs memory.knowledge: name the collections to retrieve from.")]
    [TestCase("context_tokens: 100", 3, 19, "memory.context_tokens must be a whole number from 500 to 2,000,000, not '100'.")]
    [TestCase("knowledge: [Hand Book]", 3, 15, "'Hand Book' in memory.knowledge is not a collection name")]
    [TestCase("history: 3", 3, 3, "unknown key 'history' in 'memory'.")]
    public void Should_name_the_line_of_a_bad_memory_section(string setting, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"instructions: Work.\nmemory:\n  {setting}\n"))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Does.StartWith(problem));
    }
}
