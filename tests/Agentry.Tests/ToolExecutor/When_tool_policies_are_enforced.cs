using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.ToolExecutor;
using Agentry.Tools;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Tests.ToolExecutor;

/// Each policy of an agent's tool, tried by a step that breaks it: the call is refused with
/// PermissionDenied and a sentence naming the policy, and its span says which policy refused it.
[TestFixture]
public sealed class When_tool_policies_are_enforced : ToolExecutorHarnessFixture
{
    /// Answers every name with loopback, as a hostile DNS server would for a name it controls.
    private sealed class LoopbackResolver : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromResult(IPAddress.TryParse(host, out var literal) ? [literal] : new[] { IPAddress.Loopback });
    }

    private async Task StartAsync(string agentYaml, Dictionary<string, string?>? settings = null, bool loopbackDns = false)
    {
        var services = ToolServices.Create(settings);
        if (loopbackDns)
        {
            services.Replace(ServiceDescriptor.Singleton<IHostResolver, LoopbackResolver>());
        }

        services.AddSingleton(TestAgents.Catalog(TestAgents.Parse("guarded", agentYaml)));
        await StartHarnessAsync(services, x => x.AddConsumer<ExecuteStepConsumer>());
    }

    private static ToolCall Call(string callId, string tool, object arguments) => new(callId, tool, JsonSerializer.SerializeToElement(arguments));

    private static StepPlanned Step(Guid runId, int step, params ToolCall[] calls) =>
        new(runId, "tenant-1", "guarded", step, MaxSteps: 8, "Calling tools.", calls, null, new TokenUsage(10, 5), "test-model");

    /// Publishes the step and returns the n-th ToolResult of its run and step (1: the first).
    private async Task<ToolResult> ResultOfAsync(StepPlanned step, int nth = 1)
    {
        await Harness.Bus.Publish(step);
        var results = await FirstAsync(Harness.Published.SelectAsync<ToolResult>(m => m.Context.Message.RunId == step.RunId && m.Context.Message.Step == step.Step), nth);
        Assert.That(results, Has.Count.EqualTo(nth), "the step's ToolResult was not published");
        return results[^1].Context.Message;
    }

    [Test]
    public async Task Should_refuse_a_host_outside_the_agents_allowed_hosts_even_when_the_tool_allows_it()
    {
        await StartAsync("""
            instructions: Fetch.
            tools:
              - name: http_get
                allowed_hosts: [api.example.com]
            """, new() { ["Tools:HttpGet:AllowedHosts:0"] = "api.example.com", ["Tools:HttpGet:AllowedHosts:1"] = "other.example.com" });

        var result = await ResultOfAsync(Step(Guid.NewGuid(), 1, Call("c1", "http_get", new { url = "https://other.example.com/data" })));

        var refused = result.Outcomes.Single();
        Assert.That(refused.ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(refused.Error, Is.EqualTo("Permission denied by the allowed_hosts policy: agent 'guarded' may reach only api.example.com with http_get, and 'other.example.com' is not one of them."));
    }

    [Test]
    public async Task Should_still_refuse_a_listed_host_that_resolves_to_loopback()
    {
        await StartAsync("""
            instructions: Fetch.
            tools:
              - name: http_request
                allowed_hosts: [api.example.com]
            """, new() { ["Tools:HttpRequest:AllowedHosts:0"] = "api.example.com" }, loopbackDns: true);

        var result = await ResultOfAsync(Step(Guid.NewGuid(), 1,
            Call("c1", "http_request", new { url = "http://api.example.com/status" }),
            Call("c2", "http_request", new { url = "http://169.254.169.254/latest/meta-data/" }),
            Call("c3", "http_request", new { url = "http://127.0.0.1/" })));

        Assert.That(result.Outcomes.Select(o => o.ErrorKind), Has.All.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(result.Outcomes[0].Error, Does.Contain("resolves to 127.0.0.1"), "the address guard applies to a host the policy lists");
        Assert.That(result.Outcomes[1].Error, Does.Contain("allowed_hosts policy"));
        Assert.That(result.Outcomes[2].Error, Does.Contain("allowed_hosts policy"));
    }

    [Test]
    public async Task Should_check_allowed_hosts_at_every_redirect()
    {
        var secretFetched = false;
        var (server, address) = await LocalHttpServer.StartAsync(app =>
        {
            app.MapGet("/secret", () =>
            {
                secretFetched = true;
                return Results.Text("internal secret");
            });
            app.MapGet("/hop", (HttpContext context) => Results.Redirect($"http://localhost:{context.Connection.LocalPort}/secret"));
        });
        await using var _ = server;
        // The tool itself may reach both names; the agent only 127.0.0.1.
        await StartAsync("""
            instructions: Fetch.
            tools:
              - name: http_get
                allowed_hosts: [127.0.0.1]
            """, new()
        {
            ["Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1", ["Tools:HttpGet:AllowedHosts:1"] = "localhost",
            ["Tools:HttpGet:PrivateHosts:0"] = "127.0.0.1", ["Tools:HttpGet:PrivateHosts:1"] = "localhost",
        });

        var result = await ResultOfAsync(Step(Guid.NewGuid(), 1, Call("c1", "http_get", new { url = new Uri(address, "/hop").ToString() })));

        Assert.That(secretFetched, Is.False, "the tool followed a redirect to a host outside the agent's allowed_hosts");
        Assert.That(result.Outcomes.Single().ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(result.Outcomes.Single().Error, Does.Contain("allowed_hosts policy").And.Contain("localhost"));
    }

    [Test]
    public async Task Should_refuse_a_post_under_a_read_only_policy_and_allow_a_get()
    {
        var posts = 0;
        var (server, address) = await LocalHttpServer.StartAsync(app =>
        {
            app.MapGet("/orders/7", () => Results.Text("""{"id":7,"status":"shipped"}""", "application/json"));
            app.MapPost("/orders/7/refund", () =>
            {
                Interlocked.Increment(ref posts);
                return Results.Ok();
            });
        });
        await using var _ = server;
        await StartAsync("""
            instructions: Look orders up, never change them.
            tools:
              - name: http_request
                read_only: true
            """, new() { ["Tools:HttpRequest:PrivateHosts:0"] = "127.0.0.1" });

        var result = await ResultOfAsync(Step(Guid.NewGuid(), 1,
            Call("c1", "http_request", new { method = "POST", url = new Uri(address, "/orders/7/refund").ToString(), body = new { amount = 10 } }),
            Call("c2", "http_request", new { url = new Uri(address, "/orders/7").ToString() })));

        Assert.That(posts, Is.Zero, "the POST reached the server");
        Assert.That(result.Outcomes[0].ErrorKind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(result.Outcomes[0].Error, Is.EqualTo("Permission denied by the read_only policy: agent 'guarded' may use http_request only for calls that change nothing, and this call would change something."));
        Assert.That(result.Outcomes[1].ErrorKind, Is.EqualTo(ToolErrorKind.None), result.Outcomes[1].Error);
        Assert.That(result.Outcomes[1].Output, Does.Contain("shipped"));
    }

    [Test]
    public async Task Should_refuse_calls_over_max_calls_and_never_count_a_redelivered_step_twice()
    {
        await StartAsync("""
            instructions: Calculate.
            tools:
              - name: calculator
                max_calls: 3
            """);
        var runId = Guid.NewGuid();
        var first = Step(runId, 1, Call("c1", "calculator", new { expression = "1+1" }), Call("c2", "calculator", new { expression = "2+2" }));

        var once = await ResultOfAsync(first);
        var again = await ResultOfAsync(first, nth: 2);
        var third = await ResultOfAsync(first, nth: 3);
        Assert.That(new[] { once, again, third }.SelectMany(r => r.Outcomes).Select(o => o.ErrorKind), Has.All.EqualTo(ToolErrorKind.None), "a redelivered step is answered as before");

        // Two calls used of three, however often step 1 came: one more is allowed, in call order.
        var second = await ResultOfAsync(Step(runId, 2,
            Call("c3", "calculator", new { expression = "3+3" }),
            Call("c4", "calculator", new { expression = "4+4" }),
            Call("c5", "calculator", new { expression = "5+5" })));

        Assert.That(second.Outcomes.Select(o => o.ErrorKind), Is.EqualTo(new[] { ToolErrorKind.None, ToolErrorKind.PermissionDenied, ToolErrorKind.PermissionDenied }));
        Assert.That(second.Outcomes[1].Error, Is.EqualTo("Permission denied by the max_calls policy: agent 'guarded' may call calculator at most 3 time(s) per run, and this run has used them all."));
        var otherRun = await ResultOfAsync(Step(Guid.NewGuid(), 1, Call("c1", "calculator", new { expression = "6*7" })));
        Assert.That(otherRun.Outcomes.Single().Output, Is.EqualTo("42"), "the limit is per run");
    }

    [Test]
    public async Task Should_mark_the_span_of_a_refused_call_with_the_policy()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AgentryTelemetry.Source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await StartAsync("""
            instructions: Fetch.
            tools:
              - name: http_get
                allowed_hosts: [api.example.com]
            """, new() { ["Tools:HttpGet:AllowedHosts:0"] = "evil.example.com" });
        var runId = Guid.NewGuid();

        await ResultOfAsync(Step(runId, 1, Call("c1", "http_get", new { url = "https://evil.example.com/" })));

        Activity span;
        lock (spans)
        {
            span = spans.Single(a => a.DisplayName == "execute_tool http_get" && a.GetTagItem("gen_ai.tool.call.id") as string == "c1" && Equals(a.GetTagItem(AgentryTelemetry.Tags.RunId), runId.ToString()));
        }

        Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(span.GetTagItem("agentry.tool.policy"), Is.EqualTo("allowed_hosts"));
        Assert.That(span.GetTagItem(AgentryTelemetry.Tags.ToolOutcome), Is.EqualTo(nameof(ToolErrorKind.PermissionDenied)));
    }

    private static async Task<List<T>> FirstAsync<T>(IAsyncEnumerable<T> source, int count)
    {
        var items = new List<T>();
        await foreach (var item in source)
        {
            items.Add(item);
            if (items.Count == count)
            {
                break;
            }
        }

        return items;
    }
}
