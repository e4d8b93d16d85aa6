using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway;

/// The Gateway's HTTP API over real Kestrel, with every service behind it in one process.
public sealed class When_runs_are_started_over_http : AgentryServerFixture
{
    [Test]
    public async Task Should_accept_a_run_and_then_show_its_steps_and_answer()
    {
        var completed = new TaskCompletionSource<RunCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = App.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(e => e.Handler<RunCompleted>(c =>
        {
            completed.TrySetResult(c.Message);
            return Task.CompletedTask;
        }));
        await handle.Ready;

        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is (2 + 3) * 4?" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var started = await response.Content.ReadFromJsonAsync<StartRunResponse>();
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/runs/{started!.RunId}"));
        var done = await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(done.RunId, Is.EqualTo(started.RunId));

        // Memory records the end on its own queue, in parallel with this test's handler: ask until it has.
        var run = await Http.GetFromJsonAsync<RunView>($"/runs/{started.RunId}");
        for (var attempt = 0; run!.Status == RunStatus.Running && attempt < 100; attempt++)
        {
            await Task.Delay(50);
            run = await Http.GetFromJsonAsync<RunView>($"/runs/{started.RunId}");
        }

        Assert.That((run!.Status, run.Answer, run.Agent, run.Goal), Is.EqualTo((RunStatus.Completed, "20", "assistant", "What is (2 + 3) * 4?")));
        Assert.That(run.Steps.Select(s => s.Verdict), Is.EqualTo(new Verdict?[] { Verdict.Continue, Verdict.Complete }));
        Assert.That(run.Steps[0].Outcomes.Single().Output, Is.EqualTo("20"));
        await handle.StopAsync();
    }

    [Test]
    public async Task Should_start_one_run_for_requests_retried_with_the_same_idempotency_key()
    {
        var ends = new System.Collections.Concurrent.ConcurrentQueue<(Guid RunId, Guid? MessageId)>();
        var handle = App.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(e => e.Handler<RunCompleted>(c =>
        {
            ends.Enqueue((c.Message.RunId, c.MessageId));
            return Task.CompletedTask;
        }));
        await handle.Ready;
        var key = $"order-{Guid.NewGuid():N}";

        var first = await StartAsync(key);
        await Eventually.Until(() => Task.FromResult(ends.Any(e => e.RunId == first) ? "ended" : null), "the first run's end");
        // The caller never saw the first answer and sends the request again, after the run ended.
        var retried = await StartAsync(key);
        var other = await StartAsync($"order-{Guid.NewGuid():N}");
        await Eventually.Until(() => Task.FromResult(ends.Any(e => e.RunId == other) ? "ended" : null), "the other run's end");

        Assert.That(retried, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
        Assert.That(Agentry.Gateway.Triggers.TriggeredRuns.RunIdOfRequest("another-tenant", key), Is.Not.EqualTo(first), "a key names a run of its tenant only");
        Assert.That(ends.Where(e => e.RunId == first).Select(e => e.MessageId).Distinct().Count(), Is.EqualTo(1), "one end of the run");
        var run = await Eventually.RunAsync(Http, first, r => r.Status == RunStatus.Completed, "the run recorded as completed");
        Assert.That(run.Steps, Has.Count.EqualTo(2), "the retried request ran no step");
        await handle.StopAsync();
    }

    [Test]
    public async Task Should_refuse_an_idempotency_key_with_a_space()
    {
        const string key = "two words";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = JsonContent.Create(new { agent = "assistant", goal = "What is 2 + 2?" }) };
        request.Headers.TryAddWithoutValidation(RunsApi.IdempotencyKeyHeader, key);
        using var response = await Http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("printable ASCII"));
    }

    [Test]
    public async Task Should_refuse_an_idempotency_key_over_255_characters()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = JsonContent.Create(new { agent = "assistant", goal = "What is 2 + 2?" }) };
        request.Headers.Add(RunsApi.IdempotencyKeyHeader, new string('k', 256));
        using var response = await Http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("The Idempotency-Key is 256 characters; the limit is 255."));
    }

    private async Task<Guid> StartAsync(string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = JsonContent.Create(new { agent = "assistant", goal = "What is (2 + 3) * 4?" }) };
        request.Headers.Add(RunsApi.IdempotencyKeyHeader, idempotencyKey);
        using var response = await Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    [Test]
    public async Task Should_refuse_an_empty_goal_with_a_problem_that_says_why()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("The goal is empty"));
    }

    [Test]
    public async Task Should_refuse_an_unknown_agent_naming_the_known_ones()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "nobody", goal = "hello" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Unknown agent 'nobody'. Known agents: assistant, code-review, coder, customer-support, data-pipeline, handbook, lead-outreach, market-research, orchestrator, planner-demo, prior-auth."));
    }

    [Test]
    public async Task Should_answer_404_for_a_run_nobody_started()
    {
        using var response = await Http.GetAsync($"/runs/{Guid.NewGuid()}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Should_report_live_health()
    {
        using var response = await Http.GetAsync("/health/live");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
