using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

/// The `approval:` section of agents/NAME.yaml: how long calls wait for a person, and what then.
public sealed class When_an_agent_declares_an_approval_policy
{
    private static AgentDefinition Parse(string yaml) =>
        AgentDefinitionLoader.Parse("approvals.yaml", yaml, ShippedTools.Catalog.Names.ToHashSet());

    [Test]
    public void Should_read_the_timeout_and_what_happens_then()
    {
        var agent = Parse("instructions: Work.\napproval:\n  timeout: 30m\n  on_timeout: escalate\n");

        Assert.That(agent.Approval, Is.EqualTo(new AgentApproval(TimeSpan.FromMinutes(30), ApprovalTimeoutAction.Escalate)));
    }

    [Test]
    public void Should_wait_an_hour_and_then_deny_by_default()
    {
        Assert.That(Parse("instructions: Work.\n").Approval, Is.EqualTo(new AgentApproval(TimeSpan.FromHours(1), ApprovalTimeoutAction.Deny)));
        Assert.That(Parse("instructions: Work.\napproval:\n  timeout: 5m\n").Approval.OnTimeout, Is.EqualTo(ApprovalTimeoutAction.Deny));
    }

    [TestCase("  on_timeout: approve", 3, 15, "approval.on_timeout 'approve' is not known: use 'deny'")]
    [TestCase("  timeout: forever", 3, 12, "approval.timeout")]
    [TestCase("  expires: 5m", 3, 3, "unknown key 'expires' in 'approval'")]
    public void Should_name_the_line_of_a_bad_setting(string setting, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"instructions: Work.\napproval:\n{setting}\n"))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Does.StartWith(problem));
    }
}
