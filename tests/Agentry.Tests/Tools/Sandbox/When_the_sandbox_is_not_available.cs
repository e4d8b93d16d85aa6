using Agentry.Agents;
using Agentry.Tests.ToolExecutor;
using Agentry.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Agentry.Tests.Tools.Sandbox;

/// A host without bubblewrap (here: a path where there is none) never runs code unisolated: the
/// code tools are not offered, agents load without them, and readiness says why.
public sealed class When_the_sandbox_is_not_available
{
    private static readonly Dictionary<string, string?> NoBubblewrap = new() { ["Tools:Sandbox:Bubblewrap"] = "/nonexistent/bwrap" };

    [Test]
    public void Should_not_offer_the_code_tools_and_say_why()
    {
        var catalog = ShippedTools.CatalogFor(new ConfigurationBuilder().AddInMemoryCollection(NoBubblewrap).Build());

        Assert.That(catalog.Contains("run_python") || catalog.Contains("run_shell"), Is.False);
        Assert.That(catalog.WhyWithheld("run_python"), Does.Contain("bubblewrap").And.Contain("/nonexistent/bwrap"));
        var coder = AgentDefinitionLoader.LoadFile(Path.Combine(TestAgents.RepositoryAgentsFolder(), "coder.yaml"), catalog);
        Assert.That(coder.Tools.Select(t => t.Name), Is.EqualTo(new[] { "read_file", "write_file" }));
    }

    [Test]
    public async Task Should_report_it_in_readiness_and_register_no_code_tool()
    {
        await using var services = ToolServices.Build(NoBubblewrap);

        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains("ready"));

        Assert.That(report.Entries["sandbox"].Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(report.Entries["sandbox"].Description, Does.StartWith("run_python and run_shell are not offered: bubblewrap"));
        Assert.That(services.GetServices<ITool>().Select(t => t.Name), Does.Not.Contain("run_python").And.Not.Contain("run_shell"));
    }

    [Test]
    public async Task Should_report_it_ready_where_isolation_works()
    {
        await using var services = ToolServices.Build();

        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains("ready"));

        Assert.That(report.Entries["sandbox"].Status, Is.EqualTo(HealthStatus.Healthy), report.Entries["sandbox"].Description);
        Assert.That(services.GetServices<ITool>().Select(t => t.Name), Does.Contain("run_python").And.Contain("run_shell"));
    }

    [Test]
    public void Should_offer_the_code_tools_unchecked_in_a_service_that_only_offers_them()
    {
        // The Planner of a deployment where only the ToolExecutor's pod may create user namespaces.
        var settings = new Dictionary<string, string?>(NoBubblewrap) { ["Tools:Sandbox:Probe"] = "false" };
        var catalog = ShippedTools.CatalogFor(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

        Assert.That(catalog.Contains("run_python") && catalog.Contains("run_shell"), Is.True, catalog.WhyWithheld("run_python"));
        var coder = AgentDefinitionLoader.LoadFile(Path.Combine(TestAgents.RepositoryAgentsFolder(), "coder.yaml"), catalog);
        Assert.That(coder.Tools.Select(t => t.Name), Does.Contain("run_python"));
    }

    [Test]
    public async Task Should_still_refuse_to_run_code_where_bubblewrap_cannot_start_although_unchecked()
    {
        // A ToolExecutor wrongly told not to check: bwrap is missing, and the call fails without running anything.
        using var root = new TempFolder();
        await using var services = ToolServices.Build(new Dictionary<string, string?>(NoBubblewrap) { ["Tools:Sandbox:Probe"] = "false", ["Tools:Files:Root"] = root.Path });
        var python = services.GetServices<ITool>().OfType<RunPythonTool>().Single();

        var refused = Assert.ThrowsAsync<ToolException>(() => python.InvokeAsync(System.Text.Json.JsonSerializer.SerializeToElement(new { code = "print(1)" }),
            new ToolInvocation(Guid.NewGuid(), "t", "coder", 1, "call_1_1"), CancellationToken.None));

        Assert.That(refused!.Message, Does.Contain("the code was not run"));
    }
}
