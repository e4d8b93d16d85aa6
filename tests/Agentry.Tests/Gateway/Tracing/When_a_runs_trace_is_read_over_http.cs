using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Gateway.Tracing;

namespace Agentry.Tests.Gateway.Tracing;

/// The embedded mode: `agentry serve` keeps its recent runs' spans and answers GET /runs/{id}/trace
/// from them, for a real run of the shipped customer-support agent.
public sealed class When_a_runs_trace_is_read_over_http : AgentryServerFixture
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";
        settings["Tracing:Recent:Runs"] = "2";
    }

    private async Task<Guid> CompletedRunAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/runs", new { agent = "customer-support", goal = "Where is order 1042?" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var runId = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to complete");
        return runId;
    }

    [Test]
    public async Task Should_answer_every_stage_of_every_step_with_queue_waits_and_planning_time()
    {
        var runId = await CompletedRunAsync(Http);
        var run = await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run");

        var timeline = (await Http.GetFromJsonAsync<RunTimeline>($"/runs/{runId}/trace"))!;

        Assert.That(timeline.Source, Is.EqualTo("this process's recent runs"));
        Assert.That(timeline.Traces.Select(t => t.JaegerUrl), Is.All.Null, "no Jaeger UI is configured");
        // The test's own HttpClient is traced in this process too, so its request comes first; the Gateway's follows.
        Assert.That(timeline.Spans.First(s => s.Kind == "server").Name, Is.EqualTo("POST /runs/"));
        Assert.That(timeline.Spans.Select(s => s.Service).Distinct(), Is.EqualTo(new[] { "agentry" }));
        foreach (var step in run.Steps)
        {
            Assert.That(timeline.Spans.Where(s => s.Step == step.Step).Select(s => s.Stage), Is.SupersetOf(new[] { "context", "plan", "evaluate", "saga" }), $"step {step.Step}");
        }

        Assert.That(timeline.Steps.Select(s => s.Step), Is.EqualTo(run.Steps.Select(s => s.Step)), "every step's planning time");
        Assert.That(timeline.Steps.Select(s => s.PlanningMs), Is.All.GreaterThan(0));
        var planStep = timeline.Spans.Where(s => s.Name == "plan-step receive").ToList();
        Assert.That(planStep, Has.Count.EqualTo(run.Steps.Count));
        Assert.That(planStep.Select(s => s.QueueWaitMs), Is.All.Not.Null.And.All.GreaterThanOrEqualTo(0));
        Assert.That(timeline.Spans.Select(s => s.OffsetMs), Is.Ordered, "earliest first");
        Assert.That(timeline.Spans.Max(s => s.OffsetMs + s.DurationMs), Is.EqualTo(timeline.DurationMs).Within(0.01));
    }

    [Test]
    public async Task Should_say_why_when_the_run_is_no_longer_kept_or_not_the_callers()
    {
        var oldest = await CompletedRunAsync(Http);
        await CompletedRunAsync(Http);
        var newest = await CompletedRunAsync(Http);

        using var dropped = await Http.GetAsync($"/runs/{oldest}/trace");
        Assert.That(dropped.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await dropped.Content.ReadAsStringAsync(), Does.Contain($"No span of run {oldest} is in this process's recent runs").And.Contain("last 2 runs (Tracing:Recent:Runs)"));
        using var kept = await Http.GetAsync($"/runs/{newest}/trace");
        Assert.That(kept.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var otherTenant = await ClientAsync("acme", [GatewayRoles.Read]);
        using var refused = await otherTenant.GetAsync($"/runs/{newest}/trace");
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain($"No run {newest} is known."));
    }
}
