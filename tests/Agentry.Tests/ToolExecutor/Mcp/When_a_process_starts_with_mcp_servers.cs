using Agentry.Cli;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Agents.Mcp;
using Agentry.ToolExecutor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor.Mcp;

/// The wiring every service shares (AddAgentryCore): the configured MCP servers are listed when the
/// process starts, before its agents are loaded, so agent files can name their tools.
public sealed class When_a_process_starts_with_mcp_servers
{
    private string _agents = null!;

    [SetUp]
    public void CreateAgentsFolder()
    {
        _agents = Directory.CreateTempSubdirectory("agentry-mcp-agents-").FullName;
        File.WriteAllText(Path.Combine(_agents, "researcher.yaml"), """
            instructions: Use the MCP tools.
            tools: [mcp_test_echo, calculator]
            """);
    }

    [TearDown]
    public void DeleteAgentsFolder() => Directory.Delete(_agents, recursive: true);

    [Test]
    public async Task Should_load_an_agent_that_lists_a_tool_of_a_configured_server()
    {
        await using var services = Build(McpTestServer.StdioSettings("test", Path.Combine(AppContext.BaseDirectory, "Agentry.McpTestServer.dll")));

        var agent = services.GetRequiredService<AgentCatalog>().Find("researcher");

        Assert.That(agent!.Tools.Select(t => t.Name), Is.EqualTo(new[] { "mcp_test_echo", "calculator" }));
        Assert.That(services.GetRequiredService<ToolCatalog>().Names, Is.SupersetOf(new[] { "calculator", "mcp_test_echo", "mcp_test_fail", "mcp_test_sleep" }));
        Assert.That(services.GetRequiredService<ToolRegistry>().Find("mcp_test_echo"), Is.Not.Null, "the ToolExecutor binds every listed MCP tool");
    }

    [Test]
    public async Task Should_start_without_the_tools_of_a_server_that_is_down_and_refuse_the_agents_that_need_them()
    {
        await using var services = Build(McpTestServer.DownSettings(McpTransport.Stdio, "test"));

        Assert.That(services.GetRequiredService<McpTools>().Unavailable.Keys, Is.EqualTo(new[] { "test" }));
        Assert.That(services.GetRequiredService<ToolCatalog>().Names, Does.Not.Contain("mcp_test_echo"));
        var problem = Assert.Throws<AgentCatalogException>(() => services.GetRequiredService<AgentCatalog>());
        Assert.That(problem!.Message, Does.Contain("researcher.yaml:2:").And.Contain("unknown tool 'mcp_test_echo'"));
    }

    [TestCase("my_server", "the server name 'my_server' must be 1 to 20 letters or digits")]
    [TestCase("both", "set either Command (a server started over stdio) or Url (a server reached over HTTP), not both")]
    [TestCase("neither", "not neither")]
    [TestCase("ftp", "Url must be an absolute http or https address")]
    [TestCase("secret", "HeadersFromEnvironment names environment variables that are not set: Authorization (from AGENTRY_TEST_UNSET_MCP_TOKEN)")]
    public async Task Should_refuse_server_settings_that_cannot_work(string server, string problem)
    {
        var settings = server switch
        {
            "both" => new Dictionary<string, string?> { ["Tools:Mcp:Servers:both:Command"] = "x", ["Tools:Mcp:Servers:both:Url"] = "http://127.0.0.1:1/mcp" },
            "neither" => new() { ["Tools:Mcp:Servers:neither:WorkingDirectory"] = "/tmp" },
            "ftp" => new() { ["Tools:Mcp:Servers:ftp:Url"] = "ftp://example.com/mcp" },
            "secret" => new() { ["Tools:Mcp:Servers:secret:Url"] = "https://example.com/mcp", ["Tools:Mcp:Servers:secret:HeadersFromEnvironment:Authorization"] = "AGENTRY_TEST_UNSET_MCP_TOKEN" },
            _ => new() { [$"Tools:Mcp:Servers:{server}:Command"] = "x" },
        };
        await using var services = Build(settings);

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ToolCatalog>());

        Assert.That(error!.Message, Does.StartWith("The MCP server settings are not usable: Tools:Mcp:Servers:").And.Contain(problem));
    }

    private ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings["Agents:Path"] = _agents;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddAgentryCore(configuration, "test");
        services.AddAgentTools(configuration);
        services.AddToolExecutor(configuration);
        return services.BuildServiceProvider();
    }
}
