using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.ToolExecutor;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

/// At-least-once delivery and the saga's republishing can hand the ToolExecutor a step twice; the
/// ledger makes the second delivery reuse the first outcomes. http_post stands for a tool with side
/// effects: the local server counts what it received.
public sealed class When_a_step_is_delivered_again
{
    private static readonly AgentDefinition Poster = TestAgents.Parse("poster", """
        instructions: Post.
        tools: [http_post, calculator]
        """);

    private WebApplication _server = null!;
    private Uri _base = null!;
    private readonly List<(string? Key, string Body)> _posts = [];
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    [SetUp]
    public async Task Start()
    {
        _posts.Clear();
        (_server, _base) = await LocalHttpServer.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            lock (_posts)
            {
                _posts.Add((request.Headers["Idempotency-Key"].FirstOrDefault(), body));
            }

            return Results.Json(new { received = true });
        }));
        var services = ToolServices.Create(new Dictionary<string, string?> { ["Tools:HttpPost:AllowedHosts:0"] = "127.0.0.1", ["Tools:HttpPost:PrivateHosts:0"] = "127.0.0.1" });
        services.AddSingleton(new AgentCatalog([Poster]));
        services.AddMassTransitTestHarness(x => x.AddConsumer<ExecuteStepConsumer>());
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    [TearDown]
    public async Task Stop()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
        await _server.DisposeAsync();
    }

    private StepPlanned Step(Guid runId) =>
        new(runId, "t", "poster", 1, 5, null,
            [new ToolCall("call_1_1", "http_post", JsonSerializer.SerializeToElement(new { url = new Uri(_base, "/hook").ToString(), body = new { note = "hello" } })),
             new ToolCall("call_1_2", "calculator", JsonSerializer.SerializeToElement(new { expression = "6*7" }))],
            null, new TokenUsage(1, 1), "m");

    [Test]
    public async Task Should_post_with_an_idempotency_key_naming_the_run_and_call()
    {
        var runId = Guid.NewGuid();

        await _harness.Bus.Publish(Step(runId));

        Assert.That(await _harness.Published.Any<ToolResult>(m => m.Context.Message.RunId == runId));
        var result = _harness.Published.Select<ToolResult>().Single().Context.Message;
        Assert.That(result.Outcomes[0].Output, Does.StartWith("HTTP 200 OK").And.Contain("""{"received":true}"""));
        Assert.That(_posts.Single(), Is.EqualTo(($"{runId}:call_1_1", """{"note":"hello"}""")));
    }

    [Test]
    public async Task Should_reuse_the_outcomes_and_not_post_again_when_the_step_is_delivered_twice()
    {
        var runId = Guid.NewGuid();

        await _harness.Bus.Publish(Step(runId));
        Assert.That(await _harness.Published.Any<ToolResult>(m => m.Context.Message.RunId == runId));
        await _harness.Bus.Publish(Step(runId));
        await _harness.InactivityTask;

        var results = _harness.Published.Select<ToolResult>().Select(m => m.Context.Message).ToList();
        Assert.That(results, Has.Count.EqualTo(2), "the second delivery must answer too, for a saga that lost the first answer");
        Assert.That(results[1].Outcomes.Select(o => (o.CallId, o.Output)), Is.EqualTo(results[0].Outcomes.Select(o => (o.CallId, o.Output))));
        Assert.That(_posts, Has.Count.EqualTo(1), "the post was sent twice");
    }

    [Test]
    public async Task Should_refuse_a_host_that_is_not_allowed_without_posting()
    {
        var runId = Guid.NewGuid();
        var step = Step(runId) with { ToolCalls = [new ToolCall("c", "http_post", JsonSerializer.SerializeToElement(new { url = "http://localhost:1/hook", body = "x" }))] };

        await _harness.Bus.Publish(step);

        Assert.That(await _harness.Published.Any<ToolResult>(m => m.Context.Message.RunId == runId));
        var outcome = _harness.Published.Select<ToolResult>().Single().Context.Message.Outcomes.Single();
        Assert.That(outcome.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(outcome.Error, Does.Contain("not on the http_post allow-list"));
        Assert.That(_posts, Is.Empty);
    }
}
