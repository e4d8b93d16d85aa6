using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Agentry.Cli;
using Agentry.Gateway.Security;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.EndToEnd;

/// Every service and the Gateway in one process (`agentry serve`), a scripted model that loops, and
/// a Slack webhook: the escalation reaches Slack with a summary for a person, who resumes the run
/// with guidance or closes it from the CLI.
public sealed class When_a_person_takes_over_an_escalated_run
{
    private const string Goal = "What do 2 and 2 make?";

    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;
    private WebApplication _slack = null!;
    private WebApplication _server = null!;
    private Uri _gateway = null!;
    private HttpClient _http = null!;
    private readonly Channel<JsonElement> _slackMessages = Channel.CreateUnbounded<JsonElement>();

    [SetUp]
    public async Task Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        Uri slackBase;
        (_slack, slackBase) = await LocalHttpServer.StartAsync(app => app.MapPost("/slack", async (HttpRequest request) =>
        {
            await _slackMessages.Writer.WriteAsync((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Text("ok");
        }));
        _folder.Write("support.yaml", $"""
            description: Adds numbers, and hands over when it goes round in circles
            instructions: Use the calculator, then answer with the number.
            model:
              provider: primary
              name: gpt-fake
            tools: [calculator]
            notify:
              slack: {new Uri(slackBase, "/slack")}
            """);
        _server = Commands.BuildServer(_folder.Path, "http://127.0.0.1:0", verbose: false, new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Llm:DefaultProvider"] = "primary",
            ["Llm:Providers:primary:Kind"] = "openai-compatible",
            ["Llm:Providers:primary:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Providers:primary:MaxRetries"] = "0",
            ["Gateway:PublicUrl"] = "https://agentry.example.com",
        });
        await _server.StartAsync();
        _gateway = LocalHttpServer.BaseAddressOf(_server);
        var submitter = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "submitter", [GatewayRoles.Submit, GatewayRoles.Read], "test", DateTimeOffset.UtcNow);
        await _server.Services.GetRequiredService<IApiKeyStore>().AddAsync(submitter.Key, CancellationToken.None);
        _http = new HttpClient { BaseAddress = _gateway };
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", submitter.Secret);

        // The same call twice with the same result: the Evaluator's loop detection escalates at step 2.
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{"expression":"2 + 2"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "tools-calculator", """{"expression":"2 + 2"}"""));
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _slack.DisposeAsync();
        _fake.Dispose();
        _folder.Dispose();
    }

    [Test]
    public async Task Should_send_a_summary_then_resume_with_the_guidance_in_the_next_context_and_complete()
    {
        var runId = await StartRun();
        var escalation = await SlackMessage(m => m.GetProperty("text").GetString()!.Contains("needs a person", StringComparison.Ordinal));

        var summary = escalation.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString()!;
        Assert.That(summary, Does.Contain($"Goal: {Goal}"));
        Assert.That(summary, Does.Contain("Why it stopped: Loop detected: calculator was called with the same arguments"));
        Assert.That(summary, Does.Contain("Step 1:").And.Contain("Step 2:"));
        Assert.That(summary, Does.Contain("""calculator {"expression":"2 + 2"} -&gt; returned 4"""), "each call with a short form of its result");
        Assert.That(summary, Does.Contain("Evaluator: Escalate: Loop detected"));
        Assert.That(summary, Does.Contain("Usage: 30 tokens (20 in, 10 out)"));
        Assert.That(summary, Does.Contain($"agentry resume {runId}"));
        Assert.That(escalation.GetProperty("blocks")[2].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo($"<https://agentry.example.com/runs/{runId}|Open the run>"));

        _fake.ReplyWithAnswer("2 and 2 make 4.");
        var (exit, output) = await Cli("resume", runId, "Stop recalculating: answer with the total you already have.", "alice");
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain($"Run {runId} resumed"));

        var completion = await SlackMessage(m => m.GetProperty("text").GetString()!.StartsWith("Run of support completed", StringComparison.Ordinal));
        Assert.That(completion.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo("2 and 2 make 4."));
        var third = _fake.Requests[2].Messages.EnumerateArray().ToList();
        Assert.That(third.Last().GetProperty("role").GetString(), Is.EqualTo("user"));
        Assert.That(third.Last().GetProperty("content").GetString(), Is.EqualTo("A person (alice) reviewed the run and says: Stop recalculating: answer with the total you already have."),
            "the guidance is the last message of the next context, after the escalated step's call and result");
        var run = await EndedRun(runId);
        Assert.That((run.GetProperty("status").GetString(), run.GetProperty("answer").GetString()), Is.EqualTo(("Completed", "2 and 2 make 4.")));
        var steps = run.GetProperty("steps").EnumerateArray().ToList();
        Assert.That(steps.Select(s => s.GetProperty("step").GetInt32()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(steps[1].GetProperty("guidance").GetProperty("by").GetString(), Is.EqualTo("alice"));

        (exit, output) = await Cli("resume", runId, "again", "bob");
        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted));
        Assert.That(output, Does.Contain($"Run {runId} is Completed: only an escalated run can be resumed."));
    }

    [Test]
    public async Task Should_close_the_run_with_the_resolution_as_its_answer_once()
    {
        var runId = await StartRun();
        await SlackMessage(m => m.GetProperty("text").GetString()!.Contains("needs a person", StringComparison.Ordinal));

        var (exit, output) = await Cli("close", runId, "Told the customer it is 4.", "bob");
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);

        var closed = await SlackMessage(m => m.GetProperty("text").GetString()!.StartsWith("Run of support closed by bob", StringComparison.Ordinal));
        Assert.That(closed.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo("Told the customer it is 4."));
        var run = await EndedRun(runId);
        Assert.That((run.GetProperty("status").GetString(), run.GetProperty("answer").GetString(), run.GetProperty("reason").GetString()),
            Is.EqualTo(("Completed", "Told the customer it is 4.", "Closed by bob.")));

        (exit, output) = await Cli("close", runId, "Closed twice.", "carol");
        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted));
        Assert.That(output, Does.Contain("only an escalated run can be closed"));
        Assert.That(_fake.RequestCount, Is.EqualTo(2), "a closed run never asks the model again");
    }

    [Test]
    public async Task Should_refuse_an_unknown_run_and_empty_guidance()
    {
        var unknown = Guid.NewGuid();
        var (exit, output) = await Cli("resume", unknown, "go on", "alice");
        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted));
        Assert.That(output, Does.Contain($"No run {unknown} is known."));

        using var forbidden = await _http.PostAsJsonAsync($"/runs/{unknown}/resume", new { guidance = "go on" });
        Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "a submitter cannot take over");
        (exit, output) = await Cli("resume", unknown, " ", "alice");
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput), output);
        (exit, _) = await Cli("close", unknown, "", "alice");
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
    }

    private async Task<Guid> StartRun()
    {
        using var response = await _http.PostAsJsonAsync("/runs", new { agent = "support", goal = Goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
    }

    /// Memory records the end on its own queue, so it can trail the notification: read until it has.
    /// The run once Memory has recorded its end. Escalated is not an end here: a run resumed or
    /// closed stays Escalated in Memory until the RunCompleted (on another queue) is recorded.
    private async Task<JsonElement> EndedRun(Guid runId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var run = await _http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
            if (run.GetProperty("status").GetString() is not ("Running" or "Escalated") || waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                return run;
            }

            await Task.Delay(50);
        }
    }

    private async Task<(int Exit, string Output)> Cli(string action, Guid runId, string text, string by)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        // The key's name says who decides: the --by option is not believed once callers authenticate.
        var key = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, by, [GatewayRoles.Approve], "test", DateTimeOffset.UtcNow);
        await _server.Services.GetRequiredService<IApiKeyStore>().AddAsync(key.Key, CancellationToken.None);
        var exit = await Commands.DecideEscalationAsync(action, runId.ToString(), text, "someone else", new GatewayTarget(_gateway.ToString(), key.Secret), output, error, CancellationToken.None);
        return (exit, output.ToString() + error);
    }

    private async Task<JsonElement> SlackMessage(Func<JsonElement, bool> wanted)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var message in _slackMessages.Reader.ReadAllAsync(timeout.Token))
        {
            if (wanted(message))
            {
                return message;
            }
        }

        throw new AssertionException("no such Slack message");
    }
}
