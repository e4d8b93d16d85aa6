using Agentry.Samples;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.ToolExecutor;
using Agentry.Tools;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_a_planned_step_is_executed : ToolExecutorHarnessFixture
{
    private static readonly AgentDefinition CalculatingAgent = TestAgents.Parse("calculating", """
        instructions: Calculate.
        tools: [calculator]
        """);

    private static readonly Dictionary<string, string?> AllowLocalHostOnly = new() { ["Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1", ["Tools:HttpGet:PrivateHosts:0"] = "127.0.0.1" };

    private async Task StartAsync(IServiceCollection services, AgentCatalog agents)
    {
        services.AddSingleton(agents);
        await StartHarnessAsync(services, x => x.AddConsumer<ExecuteStepConsumer>());
    }

    private Task StartAsync() => StartAsync(ToolServices.Create(AllowLocalHostOnly), TestAgents.Catalog(TestAgents.Assistant(), CalculatingAgent));

    private static ToolCall Call(string callId, string tool, string arguments)
    {
        using var document = JsonDocument.Parse(arguments);
        return new ToolCall(callId, tool, document.RootElement.Clone());
    }

    private static StepPlanned Step(string agent, params ToolCall[] calls) =>
        new(Guid.NewGuid(), "tenant-1", agent, Step: 2, MaxSteps: 8, "Calling tools.", calls, null, new TokenUsage(10, 5), "test-model");

    private async Task<ToolResult> ResultOfAsync(StepPlanned step)
    {
        await Harness.Bus.Publish(step);
        var published = await Harness.Published.SelectAsync<ToolResult>(m => m.Context.Message.RunId == step.RunId).FirstOrDefault();
        Assert.That(published, Is.Not.Null, "no ToolResult was published for the step");
        return published!.Context.Message;
    }

    [Test]
    public async Task Should_report_one_outcome_per_call_in_the_order_of_the_calls()
    {
        await StartAsync();
        var step = Step("assistant",
            Call("c1", "calculator", """{"expression":"2+3"}"""),
            Call("c2", "calculator", """{"expression":"1/0"}"""),
            Call("c3", "calculator", """{"expr":"1"}"""),
            Call("c4", "rm_rf", """{"path":"/"}"""),
            Call("c5", "http_get", """{"url":"https://intranet.example.com/secrets"}"""));

        var result = await ResultOfAsync(step);

        Assert.Multiple(() =>
        {
            Assert.That(result.RunId, Is.EqualTo(step.RunId));
            Assert.That(result.TenantId, Is.EqualTo("tenant-1"));
            Assert.That(result.Agent, Is.EqualTo("assistant"));
            Assert.That(result.Step, Is.EqualTo(2));
            Assert.That(result.MaxSteps, Is.EqualTo(8));
            Assert.That(result.Outcomes.Select(o => o.CallId), Is.EqualTo<string[]>(["c1", "c2", "c3", "c4", "c5"]));
            Assert.That(result.Outcomes.Select(o => o.Tool), Is.EqualTo<string[]>(["calculator", "calculator", "calculator", "rm_rf", "http_get"]));
            Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[]
            {
                ToolErrorKind.None, ToolErrorKind.Failed, ToolErrorKind.InvalidArguments, ToolErrorKind.UnknownTool, ToolErrorKind.PermissionDenied,
            }));
        });

        var (sum, division, badArguments, unknown, notAllowed) = (result.Outcomes[0], result.Outcomes[1], result.Outcomes[2], result.Outcomes[3], result.Outcomes[4]);
        Assert.Multiple(() =>
        {
            Assert.That(sum.Output, Is.EqualTo("5"));
            Assert.That(sum.Error, Is.Null);
            Assert.That(sum.Succeeded, Is.True);
            Assert.That(sum.Arguments.GetProperty("expression").GetString(), Is.EqualTo("2+3"));

            Assert.That(division.Output, Is.Empty);
            Assert.That(division.Error, Does.Contain("Division by zero"));

            Assert.That(badArguments.Error, Does.StartWith("Invalid arguments for calculator: ").And.Contain("expression").And.Contain("/expr"));

            Assert.That(unknown.Error, Is.EqualTo("There is no tool named 'rm_rf'."));

            Assert.That(notAllowed.Error, Does.Contain("intranet.example.com").And.Contain("allow-list").And.Contain("127.0.0.1"));

            Assert.That(result.Outcomes.Select(o => o.Duration), Has.All.GreaterThanOrEqualTo(TimeSpan.Zero));
        });
    }

    [Test]
    public async Task Should_refuse_hostile_calls_of_the_new_tools_as_outcomes()
    {
        var hostile = TestAgents.Parse("hostile", """
            instructions: Try everything.
            tools: [http_request, run_javascript, sql_query, read_file, write_file]
            """);
        using var root = new TempFolder();
        await StartAsync(ToolServices.Create(new Dictionary<string, string?> { ["Tools:Files:Root"] = root.Path, ["Tools:JavaScript:Timeout"] = "00:00:10" }), TestAgents.Catalog(hostile));

        var result = await ResultOfAsync(Step("hostile",
            Call("c1", "http_request", """{"url":"http://169.254.169.254/latest/meta-data/"}"""),
            Call("c2", "run_javascript", """{"code":"for (;;) {}"}"""),
            Call("c3", "sql_query", """{"sql":"DROP TABLE users"}"""),
            Call("c4", "write_file", """{"path":"../../etc/cron.d/x","content":"* * * * * root rm -rf /"}"""),
            Call("c5", "run_javascript", """{"code":"6 * 7"}""")));

        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[]
        {
            ToolErrorKind.PermissionDenied, ToolErrorKind.Failed, ToolErrorKind.PermissionDenied, ToolErrorKind.PermissionDenied, ToolErrorKind.None,
        }));
        // The statement limit (1,000,000 by default) stops the loop; the time limit is set far above
        // what a million statements take even on a loaded machine, so that it is the limit tested.
        Assert.That(result.Outcomes[1].Error, Does.StartWith("The program ran more than 1000000 statements"));
        Assert.That(result.Outcomes[4].Output, Is.EqualTo("42"));
    }

    [Test]
    public async Task Should_deny_a_tool_the_agent_does_not_list()
    {
        await StartAsync();

        var result = await ResultOfAsync(Step("calculating",
            Call("c1", "http_get", """{"url":"http://127.0.0.1/"}"""),
            Call("c2", "calculator", """{"expression":"6*7"}""")));

        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[] { ToolErrorKind.PermissionDenied, ToolErrorKind.None }));
        Assert.That(result.Outcomes[0].Error, Is.EqualTo("Permission denied: agent 'calculating' may not use the tool 'http_get': it is not in the agent's tools list."));
        Assert.That(result.Outcomes[1].Output, Is.EqualTo("42"));
    }

    [Test]
    public async Task Should_deny_every_tool_to_an_agent_that_is_not_defined()
    {
        await StartAsync();

        var result = await ResultOfAsync(Step("ghost", Call("c1", "calculator", """{"expression":"1+1"}""")));

        Assert.That(result.Outcomes.Single().ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(result.Outcomes.Single().Error, Does.StartWith("Permission denied: agent 'ghost' may not use the tool 'calculator'"));
    }

    [Test]
    public async Task Should_check_that_the_tool_exists_before_the_agent_s_permission()
    {
        await StartAsync();

        var result = await ResultOfAsync(Step("calculating", Call("c1", "rm_rf", "{}")));

        Assert.That(result.Outcomes.Single().ErrorKind, Is.EqualTo(ToolErrorKind.UnknownTool));
    }

    [Test]
    public async Task Should_publish_nothing_for_a_step_without_calls()
    {
        await StartAsync();
        var answer = Step("assistant") with { FinalAnswer = "42" };

        await Harness.Bus.Publish(answer);

        Assert.That(await Harness.Consumed.Any<StepPlanned>(m => m.Context.Message.RunId == answer.RunId), Is.True);
        Assert.That(await Harness.Published.Any<ToolResult>(), Is.False);
    }

    [Test]
    public async Task Should_report_a_call_that_outlives_the_call_timeout_and_a_tool_that_crashes()
    {
        var stall = new ToolDescriptor("stall", "Never finishes.", """{"type":"object"}""");
        var crash = new ToolDescriptor("crash", "Throws.", """{"type":"object"}""");
        var services = ToolServices.Create(new Dictionary<string, string?> { ["Tools:CallTimeout"] = "00:00:00.200" });
        services.Replace(ServiceDescriptor.Singleton(new ToolCatalog([.. BuiltInTools.All, .. SampleTools.Packs.SelectMany(p => p.Describe(null)), stall, crash])));
        services.AddSingleton<ITool>(new StallingTool());
        services.AddSingleton<ITool>(new CrashingTool());
        var agent = AgentDefinitionLoader.Parse("tester.yaml", "instructions: Test.\ntools: [stall, crash, calculator]", new HashSet<string> { "stall", "crash", "calculator" });
        await StartAsync(services, new AgentCatalog([agent]));

        var result = await ResultOfAsync(Step("tester",
            Call("c1", "stall", "{}"),
            Call("c2", "crash", "{}"),
            Call("c3", "calculator", """{"expression":"1+1"}""")));

        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[] { ToolErrorKind.Timeout, ToolErrorKind.Failed, ToolErrorKind.None }));
        Assert.That(result.Outcomes[0].Error, Is.EqualTo("stall did not finish within 0.2s."));
        Assert.That(result.Outcomes[0].Duration, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)));
        Assert.That(result.Outcomes[1].Error, Is.EqualTo("crash failed: the tool broke"));
        Assert.That(result.Outcomes[2].Output, Is.EqualTo("2"));
    }

    private sealed class StallingTool : ITool
    {
        private readonly TaskCompletionSource<string> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "stall";

        // Ignores cancellation on purpose: the consumer must stop waiting on its own.
        public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) => _never.Task;
    }

    private sealed class CrashingTool : ITool
    {
        public string Name => "crash";

        public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the tool broke");
    }
}
