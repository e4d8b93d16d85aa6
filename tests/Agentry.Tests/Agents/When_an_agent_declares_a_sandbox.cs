using Agentry.Agents;

namespace Agentry.Tests.Agents;

public sealed class When_an_agent_declares_a_sandbox
{
    private static AgentDefinition Parse(string yaml) =>
        AgentDefinitionLoader.Parse("coder.yaml", yaml, ShippedTools.Catalog);

    [Test]
    public void Should_read_the_limits_outputs_and_inputs()
    {
        var agent = Parse("""
            instructions: Code.
            sandbox:
              wall_time: 30s
              cpu_time: 5s
              memory: 512MiB
              processes: 16
              output: 4KiB
              workspace: 1GiB
              outputs: [report.md, "results/*.csv"]
              inputs:
                - { name: repo, path: /srv/checkout }
              allowed_hosts: [pypi.org, "*.pythonhosted.org", "mirror.example.com:8443"]
            """);

        Assert.That(agent.Sandbox, Is.EqualTo(new AgentSandbox(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), 512L << 20, 16, 4L << 10, 1L << 30)
        {
            Outputs = agent.Sandbox.Outputs,
            Inputs = agent.Sandbox.Inputs,
            AllowedHosts = agent.Sandbox.AllowedHosts,
        }));
        Assert.That(agent.Sandbox.AllowedHosts, Is.EqualTo(new[] { "pypi.org", "*.pythonhosted.org", "mirror.example.com:8443" }));
        Assert.That((HostAllowList.Allows(agent.Sandbox.AllowedHosts, "files.pythonhosted.org", 443, portWhenUnnamed: 443),
            HostAllowList.Allows(agent.Sandbox.AllowedHosts, "pypi.org", 80, portWhenUnnamed: 443),
            HostAllowList.Allows(agent.Sandbox.AllowedHosts, "mirror.example.com", 8443, portWhenUnnamed: 443),
            HostAllowList.Allows(agent.Sandbox.AllowedHosts, "pythonhosted.org", 443, portWhenUnnamed: 443)),
            Is.EqualTo((true, false, true, false)), "443 unless the entry names a port; *. means a subdomain only");
        Assert.That(agent.Sandbox.Outputs, Is.EqualTo(new[] { "report.md", "results/*.csv" }));
        Assert.That(agent.Sandbox.Inputs, Is.EqualTo(new[] { new SandboxInput("repo", "/srv/checkout") }));
        Assert.That(Parse("instructions: Code.\n").Sandbox, Is.SameAs(AgentSandbox.Default));
    }

    [TestCase("sandbox:\n  memory: 256MB\n", 3, "sandbox.memory '256MB' is not a size")]
    [TestCase("sandbox:\n  swap: 1GiB\n", 3, "unknown key 'swap' in 'sandbox'")]
    [TestCase("sandbox:\n  outputs: [../secret]\n", 3, "'../secret' in sandbox.outputs is not a relative path")]
    [TestCase("sandbox:\n  inputs:\n    - { name: repo, path: relative/dir }\n", 4, "must be an absolute host path")]
    [TestCase("sandbox:\n  wall_time: forever\n", 3, "sandbox.wall_time 'forever' is not a duration")]
    [TestCase("sandbox:\n  allowed_hosts:\n    - pypi.org\n    - https://evil.example.com/\n", 5, "'https://evil.example.com/' in sandbox.allowed_hosts is not a host name")]
    [TestCase("sandbox:\n  allowed_hosts: pypi.org\n", 3, "sandbox.allowed_hosts must be a list")]
    public void Should_name_the_line_of_a_bad_entry(string section, int line, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse("instructions: Code.\n" + section))!;

        Assert.That(error.Message, Does.Contain($"coder.yaml:{line}:").And.Contain(problem));
    }
}
