using System.Text.Json;
using Agentry.Agents.Mcp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Agentry.Tests.ToolExecutor.Mcp;

/// A stdio server is someone else's program started by the ToolExecutor: it gets the variables it is
/// configured with, not the service's own secrets.
public sealed class When_an_mcp_server_runs_as_a_program
{
    private const string Secret = "AGENTRY_TEST_MCP_SECRET_6F1C";

    [Test]
    public async Task Should_pass_it_its_configured_variables_but_not_this_processs_secrets()
    {
        Environment.SetEnvironmentVariable(Secret, "hunter2");
        try
        {
            var settings = McpTestServer.StdioSettings("test", Path.Combine(AppContext.BaseDirectory, "Agentry.McpTestServer.dll"));
            settings["Tools:Mcp:Servers:test:Env:AGENTRY_VISIBLE"] = "configured";

            Assert.That(await ReadEnvAsync(settings, "AGENTRY_VISIBLE"), Is.EqualTo("configured"));
            Assert.That(await ReadEnvAsync(settings, Secret), Is.EqualTo("(not set)"));
            Assert.That(await ReadEnvAsync(settings, "PATH"), Is.Not.EqualTo("(not set)"), "programs still need PATH to start");

            settings["Tools:Mcp:Servers:test:InheritEnvironment"] = "true";
            Assert.That(await ReadEnvAsync(settings, Secret), Is.EqualTo("hunter2"), "InheritEnvironment opts in to the whole environment");
        }
        finally
        {
            Environment.SetEnvironmentVariable(Secret, null);
        }
    }

    private static async Task<string> ReadEnvAsync(Dictionary<string, string?> settings, string name)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        await using var sessions = new Agentry.Tools.McpSessions(configuration, NullLoggerFactory.Instance);
        var result = await sessions.CallAsync("test", "read_env", new Dictionary<string, object?> { ["name"] = JsonSerializer.SerializeToElement(name) }, CancellationToken.None);
        return string.Join("", result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(t => t.Text));
    }
}
