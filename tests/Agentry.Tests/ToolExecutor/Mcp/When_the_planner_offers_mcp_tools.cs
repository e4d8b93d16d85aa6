using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Planning;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Agents.Mcp;
using Agentry.Tests.Llm;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor.Mcp;

/// The Planner side: an MCP tool listed from a real server reaches the model (through the real
/// OpenAI connector, against the fake) with the server's schema, and the model's call is checked
/// against that schema before it is proposed.
public sealed class When_the_planner_offers_mcp_tools : HarnessFixture
{
    private McpTestServer _server = null!;
    private ToolCatalog _catalog = null!;
    private OpenAiFake _fake = null!;

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override AgentCatalog Agents => new([AgentDefinitionLoader.Parse("researcher.yaml", """
        instructions: Use the MCP tools.
        tools: [mcp_test_echo]
        """, _catalog.Names.ToHashSet())]);

    [OneTimeSetUp]
    public async Task ListServer()
    {
        _server = await McpTestServer.StartAsync(McpTransport.Http, "test");
        var tools = await McpTools.ListAsync(McpTools.Options(new ConfigurationBuilder().AddInMemoryCollection(_server.Settings).Build()), null, CancellationToken.None);
        _catalog = ShippedTools.Catalog.With(tools.Descriptors);
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    protected override void ConfigureServices(IServiceCollection services)
    {
        _fake = OpenAiFake.Start();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Model"] = "gpt-fake",
        }).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(_catalog);
        services.AddPlanner(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<PlanStepConsumer>();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    [Test]
    public async Task Should_offer_the_tool_with_the_servers_schema_and_check_the_models_call_against_it()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "mcp_test_echo", """{"text": 42}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "mcp_test_echo", """{"text": "hello"}"""));
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ContextLoaded(runId, "t", "researcher", 1,
            [new ContextMessage(ContextRole.System, "Use the tools."), new ContextMessage(ContextRole.User, "Say hello through the server.")]));
        var proposal = await PublishedOne<StepProposed>(m => m.RunId == runId);

        var offered = _fake.Requests[0].Json.GetProperty("tools").EnumerateArray().Single().GetProperty("function");
        Assert.That(offered.GetProperty("name").GetString(), Is.EqualTo("tools-mcp_test_echo"));
        Assert.That(offered.GetProperty("description").GetString(), Does.StartWith("Returns the text it is given"));
        Assert.That(offered.GetProperty("parameters").GetProperty("properties").GetProperty("text").GetProperty("type").GetString(), Is.EqualTo("string"));
        // The first call (a number where the server wants a string) went back to the model with the error.
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var call = proposal.ToolCalls.Single();
        Assert.That((call.Tool, call.Arguments.GetProperty("text").GetString()), Is.EqualTo(("mcp_test_echo", "hello")));
    }
}
