using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Agentry.Agents.Pinning;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Agents.Pinning;

/// A deploy in the middle of a run, on the real RabbitMQ (a virtual host of the test's own) and Redis:
/// the run starts on a server whose agents folder holds version one of its agent and waits for a
/// person's approval; that server stops, and a server with version two of the folder takes over
/// the run (its state in Redis, its messages in the broker, its transcript in the shared SQLite
/// file). The planning model is the OpenAI-compatible fake, which records what each call was sent.
public sealed class When_a_definition_changes_mid_run
{
    private const string VersionOne = """
        description: Adds numbers with the calculator, with a person's approval
        instructions: Version one. Use the calculator, then answer with the number.
        model: { provider: primary, name: gpt-fake }
        tools:
          - name: calculator
            needs_approval: true
        limits: { max_steps: 4 }
        """;

    // No calculator: a run on this version could not call it.
    private const string VersionTwo = """
        description: Answers without tools
        instructions: Version two. Answer from what you know; there are no tools.
        model: { provider: primary, name: gpt-fake }
        limits: { max_steps: 3 }
        """;

    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;
    private string _virtualHost = null!;
    private string _keyPrefix = null!;
    private WebApplication? _server;
    private TestRedis _redis = null!;

    /// What `agentry --gateway URL --key KEY` would use against the server of the moment.
    private GatewayTarget _cli = null!;

    [SetUp]
    public async Task Start()
    {
        _redis = await TestRedis.ConnectAsync();
        TestServers.RequireRabbitMq();
        _virtualHost = $"agentry-pin-{Guid.NewGuid():N}";
        if (await TestServers.RabbitMqCtlAsync("add_vhost", _virtualHost) is not (0, _)
            || await TestServers.RabbitMqCtlAsync("set_permissions", "-p", _virtualHost, "guest", ".*", ".*", ".*") is not (0, _))
        {
            NotRun.Report("When_a_definition_changes_mid_run: rabbitmqctl cannot make a virtual host here; the test needs one of its own on the shared broker.");
            Assert.Ignore("no rabbitmqctl");
        }

        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        _keyPrefix = _redis.NewKeyPrefix();
        Directory.CreateDirectory(Path.Combine(_folder.Path, "v1"));
        Directory.CreateDirectory(Path.Combine(_folder.Path, "v2"));
        File.WriteAllText(Path.Combine(_folder.Path, "v1", "adder.yaml"), VersionOne);
        File.WriteAllText(Path.Combine(_folder.Path, "v2", "adder.yaml"), VersionTwo);
    }

    [TearDown]
    public async Task Stop()
    {
        await StopServerAsync();
        _fake?.Dispose();
        _folder?.Dispose();
        await TestServers.RabbitMqCtlAsync("delete_vhost", _virtualHost);
        await _redis.DisposeAsync();
    }

    /// The step limit in the run's state in Redis, which the saga holds the run to.
    private async Task<int> MaxStepsAsync(Guid runId)
    {
        var data = await _redis.Database.HashGetAsync($"{_keyPrefix}saga:agentrun:{runId:D}", "data");
        return System.Text.Json.JsonDocument.Parse(data.ToString()).RootElement.GetProperty("MaxSteps").GetInt32();
    }

    [Test]
    public async Task Should_keep_the_instructions_tools_and_limits_the_run_started_with()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"2 + 3"}"""))
            .ReplyWithAnswer("5");
        var http = await StartServerAsync("v1");
        var runId = await StartRunAsync(http);
        await WaitForApprovalAsync(http, runId);
        using (var current = await http.PostAsync($"/runs/{runId}/definition", null))
        {
            Assert.That(current.StatusCode, Is.EqualTo(HttpStatusCode.OK), await current.Content.ReadAsStringAsync());
            var answer = await current.Content.ReadFromJsonAsync<MoveDefinitionResponse>();
            Assert.That((answer!.Moved, answer.Message), Is.EqualTo((false, $"Run {runId} is already on the current definition of 'adder' ({AgentDefinitionHash.Of(VersionOne)[..12]}).")));
        }

        http = await RestartServerAsync("v2");
        var before = await Eventually.RunAsync(http, runId, r => r.Definition is not null, "the run's definition in its view");
        Assert.That(before.Definition!.AgentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionOne)));
        Assert.That(before.Definition.CurrentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionTwo)));
        Assert.That(before.Definition.DiffersFromCurrent, Is.True);
        Assert.That(RunCommands.DefinitionLine(before.Definition), Does.Contain("differs from the current " + AgentDefinitionHash.Of(VersionTwo)[..12]));

        await ApproveAsync(http, runId);
        var run = await Eventually.RunAsync(http, runId, r => r.Status is not RunStatus.Running, "the run's end");

        Assert.That((run.Status, run.Answer), Is.EqualTo((RunStatus.Completed, (string?)"5")), run.Reason);
        Assert.That(run.Steps[0].Outcomes.Single().Output, Is.EqualTo("5"), "the calculator ran though version two has no tools");
        var second = _fake.Requests[1];
        Assert.That(second.Messages[0].GetProperty("content").GetString(), Does.Contain("Version one").And.Not.Contain("Version two"));
        Assert.That(second.ToolNames, Does.Contain("tools-calculator"));
        Assert.That(run.Definition!.AgentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionOne)), "a finished run keeps its definition");
        Assert.That(await MaxStepsAsync(runId), Is.EqualTo(4), "version one's step limit");

        using var refused = await http.PostAsync($"/runs/{runId}/definition", null);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("finished run keeps the definition"));
        using var unknown = await http.PostAsync($"/runs/{Guid.NewGuid()}/definition", null);
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Should_take_the_current_definition_from_the_next_step_once_moved_and_audit_the_move()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"2 + 3"}"""))
            .ReplyWithAnswer("5");
        var http = await StartServerAsync("v1");
        var runId = await StartRunAsync(http);
        await WaitForApprovalAsync(http, runId);
        http = await RestartServerAsync("v2");

        var (exit, output, error) = await CliAsync((o, e) => RunCommands.MoveDefinitionAsync(_cli, runId.ToString(), o, e, CancellationToken.None));
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        Assert.That(output, Does.Contain($"moves from {AgentDefinitionHash.Of(VersionOne)[..12]} to {AgentDefinitionHash.Of(VersionTwo)[..12]} at its next step"));

        var moving = await Eventually.RunAsync(http, runId, r => r.Definition?.MovingToHash is not null, "the move waiting for the next step");
        Assert.That(moving.Definition!.MovingToHash, Is.EqualTo(AgentDefinitionHash.Of(VersionTwo)));
        (exit, output, _) = await CliAsync((o, e) => RunCommands.ShowAsync(_cli, runId.ToString(), o, e, CancellationToken.None));
        Assert.That(output, Does.Contain($"definition: {AgentDefinitionHash.Of(VersionOne)}; moving to {AgentDefinitionHash.Of(VersionTwo)[..12]} at the next step"));
        using (var again = await http.PostAsync($"/runs/{runId}/definition", null))
        {
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK), "asking twice is answered, not moved twice");
            var answer = await again.Content.ReadFromJsonAsync<MoveDefinitionResponse>();
            Assert.That((answer!.Moved, answer.FromHash, answer.ToHash), Is.EqualTo((false, (string?)AgentDefinitionHash.Of(VersionOne), AgentDefinitionHash.Of(VersionTwo))));
        }

        await ApproveAsync(http, runId);
        var run = await Eventually.RunAsync(http, runId, r => r.Status is not RunStatus.Running, "the run's end");

        Assert.That((run.Status, run.Answer), Is.EqualTo((RunStatus.Completed, (string?)"5")), run.Reason);
        Assert.That(run.Steps[0].Outcomes.Single().Output, Is.EqualTo("5"), "the step in flight finished on version one");
        var second = _fake.Requests[1];
        Assert.That(second.Messages[0].GetProperty("content").GetString(), Does.Contain("Version two").And.Not.Contain("Version one"));
        Assert.That(second.ToolNames, Is.Empty, "version two offers no tools");
        Assert.That(run.Definition!.AgentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionTwo)));
        Assert.That(await MaxStepsAsync(runId), Is.EqualTo(3), "version two's step limit from the move on");

        var audit = await http.GetFromJsonAsync<AuditTrail>($"/audit?runId={runId}");
        var entry = audit!.Entries.Single(e => e.Action == "run.definition-moved");
        Assert.That(entry.Detail, Is.EqualTo($"agent adder from {AgentDefinitionHash.Of(VersionOne)} to {AgentDefinitionHash.Of(VersionTwo)}"));
        Assert.That(entry.Target, Is.EqualTo(AgentDefinitionHash.Of(VersionTwo)));
        Assert.That(entry.Actor, Does.StartWith("tester (key "), "who moved it");

        using var already = await http.PostAsync($"/runs/{runId}/definition", null);
        Assert.That(already.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "the run has finished");
    }

    [Test]
    public async Task Should_refuse_to_move_a_run_whose_agent_is_no_longer_defined()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"2 + 3"}"""));
        var http = await StartServerAsync("v1");
        var runId = await StartRunAsync(http);
        await WaitForApprovalAsync(http, runId);
        Directory.CreateDirectory(Path.Combine(_folder.Path, "none"));
        File.WriteAllText(Path.Combine(_folder.Path, "none", "other.yaml"), VersionTwo);
        http = await RestartServerAsync("none");

        using var refused = await http.PostAsync($"/runs/{runId}/definition", null);
        var (exit, _, error) = await CliAsync((o, e) => RunCommands.MoveDefinitionAsync(_cli, runId.ToString(), o, e, CancellationToken.None));

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("Agent 'adder' is no longer defined"));
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput), "agentry move-definition refuses it too");
        Assert.That(error, Does.Contain("no longer defined"));
    }

    /// A fork after a deploy (docs/durability.md, "Fork and replay"): on the definition its parent was
    /// pinned to unless asked for the current one. Each fork is given guidance, so that its context
    /// differs from the parent's and the response cache cannot answer for the model.
    [Test]
    public async Task Should_fork_on_the_parents_pinned_definition_or_on_the_current_one_when_asked()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"2 + 3"}"""))
            .ReplyWithAnswer("5");
        var http = await StartServerAsync("v1");
        var parent = await StartRunAsync(http);
        await WaitForApprovalAsync(http, parent);
        await ApproveAsync(http, parent);
        await Eventually.RunAsync(http, parent, r => r.Status == RunStatus.Completed, "the parent's end");

        http = await RestartServerAsync("v2");
        _fake.Reset();
        _fake.ReplyWithAnswer("Five, on the pinned one.").ReplyWithAnswer("Five, on the current one.");
        var pinned = await Eventually.RunAsync(http, await ForkAsync(http, parent, "pinned"), r => r.Status is not (RunStatus.Running or null), "the fork on the pinned definition");
        var current = await Eventually.RunAsync(http, await ForkAsync(http, parent, "current"), r => r.Status is not (RunStatus.Running or null), "the fork on the current definition");

        Assert.That((pinned.Status, pinned.Answer), Is.EqualTo((RunStatus.Completed, (string?)"Five, on the pinned one.")), pinned.Reason);
        Assert.That((current.Status, current.Answer), Is.EqualTo((RunStatus.Completed, (string?)"Five, on the current one.")), current.Reason);
        Assert.That(_fake.Requests, Has.Count.EqualTo(2), "one planning call a fork");
        Assert.That(_fake.Requests[0].Messages[0].GetProperty("content").GetString(), Does.Contain("Version one").And.Not.Contain("Version two"));
        Assert.That(_fake.Requests[0].ToolNames, Does.Contain("tools-calculator"));
        Assert.That(_fake.Requests[1].Messages[0].GetProperty("content").GetString(), Does.Contain("Version two").And.Not.Contain("Version one"));
        Assert.That(_fake.Requests[1].ToolNames, Does.Not.Contain("tools-calculator"));
        Assert.That(pinned.Definition?.AgentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionOne)));
        Assert.That(current.Definition?.AgentHash, Is.EqualTo(AgentDefinitionHash.Of(VersionTwo)));
        Assert.That(await MaxStepsAsync(current.RunId), Is.EqualTo(1 + 3), "the fork's limit counts from its step: version two's max_steps after step 1");
    }

    private static async Task<Guid> ForkAsync(HttpClient http, Guid parent, string agentVersion)
    {
        using var response = await http.PostAsJsonAsync($"/runs/{parent}/fork", new { fromStep = 1, agentVersion, guidance = "Answer in words." });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Agentry.Gateway.Lineage.LineageRunResponse>())!.RunId;
    }

    private static async Task<(int Exit, string Output, string Error)> CliAsync(Func<TextWriter, TextWriter, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await command(output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<HttpClient> StartServerAsync(string agents)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["ConnectionStrings:redis"] = TestServers.RedisConfiguration,
            ["ConnectionStrings:rabbitmq"] = new UriBuilder(TestServers.RabbitMqUrl) { Path = "/" + _virtualHost }.Uri.ToString(),
            ["Planner:Redis:KeyPrefix"] = _keyPrefix,
            ["Evaluator:Redis:KeyPrefix"] = _keyPrefix,
            ["ToolExecutor:Redis:KeyPrefix"] = _keyPrefix,
            ["Notifier:Redis:KeyPrefix"] = _keyPrefix,
            ["Triggers:Schedules:KeyPrefix"] = _keyPrefix,
            ["Agents:PinnedDefinitionKeyPrefix"] = _keyPrefix + "agent-definition:",
            ["Triggers:Schedules:Enabled"] = "false",
            ["Llm:DefaultProvider"] = "primary",
            ["Llm:Providers:primary:Kind"] = "openai-compatible",
            ["Llm:Providers:primary:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Providers:primary:MaxRetries"] = "0",
            ["Llm:Cache:KeyPrefix"] = _keyPrefix + "llm-cache:",
        };
        _server = Commands.BuildServer(Path.Combine(_folder.Path, agents), "http://127.0.0.1:0", verbose: Environment.GetEnvironmentVariable("PIN_VERBOSE") == "1", settings);
        await _server.StartAsync();
        var issued = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "tester", GatewayRoles.All, "test", DateTimeOffset.UtcNow);
        await _server.Services.GetRequiredService<IApiKeyStore>().AddAsync(issued.Key, CancellationToken.None);
        var http = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(_server) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.Secret);
        _cli = new GatewayTarget(http.BaseAddress!.ToString(), issued.Secret);
        // On a fresh virtual host a goal published before the endpoints bound their exchanges is lost.
        await Eventually.Until(async () =>
        {
            using var ready = await http.GetAsync("/health/ready");
            return ready.IsSuccessStatusCode ? "ready" : null;
        }, "the server's bus to be ready");
        return http;
    }

    private async Task<HttpClient> RestartServerAsync(string agents)
    {
        await StopServerAsync();
        return await StartServerAsync(agents);
    }

    private async Task StopServerAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    private static async Task<Guid> StartRunAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/runs", new { agent = "adder", goal = "What is 2 + 3?" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    private static Task WaitForApprovalAsync(HttpClient http, Guid runId) =>
        Eventually.RunAsync(http, runId, r => r.Approvals?.Any(a => a.CallId == "call_1") == true, "the calculator call waiting for approval");

    private static async Task ApproveAsync(HttpClient http, Guid runId)
    {
        using var response = await http.PostAsJsonAsync($"/runs/{runId}/approvals/call_1", new { approved = true });
        Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
    }
}
