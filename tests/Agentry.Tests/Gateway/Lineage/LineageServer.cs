using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Lineage;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Agentry.Tests.Gateway.Lineage;

/// `agentry serve` with an agent on the OpenAI-compatible fake, whose tools are the calculator and a
/// side-effecting http_post to a local server that counts what it receives.
public abstract class LineageServer : AgentryServerFixture
{
    private TempFolder _agents = null!;
    private WebApplication _hook = null!;
    private int _posts;

    protected OpenAiFake Fake { get; private set; } = null!;

    protected Uri Hook { get; private set; } = null!;

    /// The posts the side-effecting tool made.
    protected int Posts => Volatile.Read(ref _posts);

    protected override string AgentsFolder => _agents.Path;

    [OneTimeSetUp]
    public async Task StartPeers()
    {
        Fake = OpenAiFake.Start();
        (_hook, var address) = await LocalHttpServer.StartAsync(app => app.MapPost("/hook", () =>
        {
            Interlocked.Increment(ref _posts);
            return Results.Text("received");
        }));
        Hook = new Uri(address, "/hook");
        _agents = new TempFolder();
        _agents.Write("poster.yaml", """
            description: Computes and posts, for forks and replays
            instructions: Use the calculator, post the result, then answer.
            model:
              provider: primary
              name: gpt-fake
            tools: [calculator, http_post]
            """);
    }

    [SetUp]
    public void ResetPeers()
    {
        Fake.Reset();
        Volatile.Write(ref _posts, 0);
    }

    [OneTimeTearDown]
    public async Task StopPeers()
    {
        Fake.Dispose();
        await _hook.StopAsync();
        await _hook.DisposeAsync();
        _agents.Dispose();
    }

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Llm:DefaultProvider"] = "primary";
        settings["Llm:Providers:primary:Kind"] = "openai-compatible";
        settings["Llm:Providers:primary:Endpoint"] = Fake.BaseUrl.ToString();
        settings["Llm:Providers:primary:MaxRetries"] = "0";
        settings["Tools:HttpPost:AllowedHosts:0"] = "127.0.0.1";
        settings["Tools:HttpPost:PrivateHosts:0"] = "127.0.0.1";
    }

    /// The parent: 1 + 1 on the calculator, the result posted, then the answer.
    protected void ScriptParent()
    {
        Fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"1 + 1"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "tools-http_post", $$$"""{"url":"{{{Hook}}}","body":{"sum":2}}"""))
            .ReplyWithAnswer("Posted 2.");
    }

    protected async Task<RunView> ParentAsync()
    {
        ScriptParent();
        using var started = await Http.PostAsJsonAsync("/runs", new { agent = "poster", goal = "Add 1 and 1 and post the sum." });
        Assert.That(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
        var runId = (await started.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        var run = await Eventually.RunAsync(Http, runId, r => r.Status is not (RunStatus.Running or null), "the parent run's end");
        Assert.That((run.Status, run.Steps.Count, Posts), Is.EqualTo((RunStatus.Completed, 3, 1)), run.Reason);
        Fake.Reset();
        return run;
    }

    protected async Task<LineageRunResponse> StartAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        Assert.That((int)response.StatusCode, Is.EqualTo(StatusCodes.Status202Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<LineageRunResponse>(Web))!;
    }

    protected Task<RunView> EndedAsync(Guid runId) =>
        Eventually.RunAsync(Http, runId, r => r.Status is not (RunStatus.Running or null), $"the end of run {runId}");

    protected static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
