using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Agents.Mcp;
using Agentry.ToolExecutor;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor.Mcp;

/// The ToolExecutor keeps one session per server; when the server goes away the call fails with a
/// clear outcome, and a server back on the same address is used again without restarting anything.
public sealed class When_an_mcp_server_goes_away_and_comes_back
{
    [Test]
    public async Task Should_fail_the_calls_while_it_is_away_and_reconnect_when_it_is_back()
    {
        var port = McpTestServer.FreePort();
        var server = await McpTestServer.StartAsync(McpTransport.Http, "test", port);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(server.Settings).Build();
        var tools = await McpTools.ListAsync(McpTools.Options(configuration), null, CancellationToken.None);
        var catalog = ShippedTools.Catalog.With(tools.Descriptors);
        var agent = AgentDefinitionLoader.Parse("echoing.yaml", "instructions: Echo.\ntools: [mcp_test_echo]", catalog.Names.ToHashSet());
        var services = ToolServices.Create(server.Settings);
        services.AddSingleton(catalog);
        services.AddSingleton(tools);
        services.AddSingleton(new AgentCatalog([agent]));
        services.AddMassTransitTestHarness(bus => bus.AddConsumer<ExecuteStepConsumer>());
        await using var provider = services.BuildServiceProvider();
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        try
        {
            var before = await EchoAsync(harness, "one");
            await server.DisposeAsync();
            var away = await EchoAsync(harness, "two");
            server = await McpTestServer.StartAsync(McpTransport.Http, "test", port);
            var back = await EchoAsync(harness, "three");

            Assert.That(before.Output, Is.EqualTo("echo: one"));
            Assert.That(away.ErrorKind, Is.EqualTo(ToolErrorKind.Failed));
            Assert.That(away.Error, Does.StartWith("The MCP server 'test' is unavailable:"));
            Assert.That((back.ErrorKind, back.Output), Is.EqualTo((ToolErrorKind.None, "echo: three")));
        }
        finally
        {
            await harness.Stop();
            await server.DisposeAsync();
        }
    }

    private static async Task<ToolOutcome> EchoAsync(ITestHarness harness, string text)
    {
        var step = new StepPlanned(Guid.NewGuid(), "tenant-1", "echoing", Step: 1, MaxSteps: 8, "Echo.",
            [new ToolCall("c1", "mcp_test_echo", JsonSerializer.SerializeToElement(new { text }))], null, new TokenUsage(1, 1), "test-model");
        await harness.Bus.Publish(step);
        var published = await harness.Published.SelectAsync<ToolResult>(m => m.Context.Message.RunId == step.RunId).FirstOrDefault();
        Assert.That(published, Is.Not.Null, "no ToolResult was published for the step");
        return published!.Context.Message.Outcomes.Single();
    }
}
