using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.Lineage;

/// POST /runs/{id}/fork in one process (`agentry serve`): a new run whose context is its parent's
/// transcript up to the step it forks at, linked to its parent.
public sealed class When_a_run_is_forked : LineageServer
{
    [Test]
    public async Task Should_plan_the_next_step_from_exactly_the_parents_steps_before_it_with_the_guidance()
    {
        var parent = await ParentAsync();
        Fake.ReplyWithAnswer("Forked: 2, not posted.");

        var fork = await StartAsync($"/runs/{parent.RunId}/fork", new { fromStep = 1, guidance = "Do not post; answer with the sum." });
        var run = await EndedAsync(fork.RunId);

        Assert.That((run.Status, run.Answer), Is.EqualTo((RunStatus.Completed, "Forked: 2, not posted.")), run.Reason);
        Assert.That(Fake.Requests, Has.Count.EqualTo(1), "the fork planned one step: step 2");
        var messages = Fake.Requests[0].Messages.EnumerateArray().ToList();
        var roles = messages.Select(m => m.GetProperty("role").GetString()).ToList();
        Assert.That(roles, Is.EqualTo(new[] { "system", "user", "assistant", "tool", "user" }), "instructions, goal, the parent's step 1 and its result, the guidance");
        Assert.That(messages[1].GetProperty("content").GetString(), Does.Contain("Add 1 and 1 and post the sum."));
        var call = messages[2].GetProperty("tool_calls")[0].GetProperty("function");
        Assert.That((call.GetProperty("name").GetString(), JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("expression").GetString()),
            Is.EqualTo(("tools-calculator", "1 + 1")));
        Assert.That(messages[3].GetProperty("content").GetString(), Does.Contain('2'));
        Assert.That(messages[4].GetProperty("content").GetString(), Does.Contain("Do not post; answer with the sum."));
        Assert.That(Fake.Requests[0].Body, Does.Not.Contain("received"), "nothing of the parent's step 2 (its post's response)");
        Assert.That(Posts, Is.EqualTo(1), "the fork did not post");

        Assert.That(run.Lineage, Is.EqualTo(new RunLineage(parent.RunId, LineageKind.Fork, 1, Guidance: run.Lineage!.Guidance)));
        Assert.That(run.Lineage.Guidance?.Text, Is.EqualTo("Do not post; answer with the sum."));
        Assert.That(run.Steps.Select(s => (s.Step, s.ToolCalls.Select(c => c.Tool).FirstOrDefault(), s.FinalAnswer)),
            Is.EqualTo(new[] { (1, (string?)"calculator", (string?)null), (2, null, "Forked: 2, not posted.") }));
        Assert.That(run.Steps[0].Guidance?.Text, Is.EqualTo("Do not post; answer with the sum."), "the guidance is recorded after the step forked at");
        Assert.That(run.Usage!.Total, Is.EqualTo(15), "the fork counts its own model call only");
        var parentNow = await Eventually.RunAsync(Http, parent.RunId, r => r.Children is { Count: > 0 }, "the parent listing its fork");
        Assert.That(parentNow.Children, Is.EqualTo(new[] { new RunChild(fork.RunId, LineageKind.Fork, 1) }));
        var pinned = (await Eventually.RunAsync(Http, parent.RunId, r => r.Definition is not null, "the parent's definition")).Definition!;
        Assert.That(run.Definition?.AgentHash, Is.EqualTo(pinned.AgentHash), "the fork is pinned to its parent's definition");
    }

    [Test]
    public async Task Should_name_the_parent_on_the_span_that_starts_the_fork_and_link_to_the_parents_trace()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Agentry.ServiceDefaults.Telemetry.AgentryTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var parent = await ParentAsync();
        Fake.ReplyWithAnswer("Forked.");

        var fork = await StartAsync($"/runs/{parent.RunId}/fork", new { fromStep = 2 });
        await EndedAsync(fork.RunId);

        var parentTraces = spans.Where(s => s.GetTagItem("agentry.run_id")?.ToString() == parent.RunId.ToString()).Select(s => s.TraceId).ToHashSet();
        var start = spans.Single(s => s.DisplayName == "fork poster");
        Assert.That(start.GetTagItem("agentry.parent_run_id"), Is.EqualTo(parent.RunId.ToString()));
        Assert.That(start.GetTagItem("agentry.run_id"), Is.EqualTo(fork.RunId.ToString()));
        Assert.That(start.Links.Select(l => l.Context.TraceId), Is.Not.Empty.And.SubsetOf(parentTraces));
        Assert.That(parentTraces, Does.Not.Contain(start.TraceId), "the fork is a trace of its own");
    }

    [Test]
    public async Task Should_ask_the_model_named_and_redelivery_of_the_first_context_copies_nothing_twice()
    {
        var parent = await ParentAsync();
        Fake.ReplyWithAnswer("Answered by another model.");

        var fork = await StartAsync($"/runs/{parent.RunId}/fork", new { fromStep = 2, model = "gpt-other", agentVersion = "current" });
        var run = await EndedAsync(fork.RunId);

        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(Fake.Requests.Select(r => r.Model), Is.EqualTo(new[] { "gpt-other" }));
        Assert.That(Fake.Requests[0].Messages.EnumerateArray().Count(m => m.GetProperty("role").GetString() == "tool"), Is.EqualTo(2));
        Assert.That(run.Lineage?.Model, Is.EqualTo("gpt-other"));
        Assert.That(run.Definition?.DiffersFromCurrent, Is.True, "a definition of its own, naming the other model");
        Assert.That(run.Steps.Select(s => s.Model), Is.EqualTo(new[] { "gpt-fake", "gpt-fake", "gpt-other" }));

        // The first context request again, as a redelivery brings it: the copied steps stay one each.
        var bus = App.Services.GetRequiredService<MassTransit.IBus>();
        await bus.Publish(new ContextRequested(fork.RunId, "default", "poster", 3, parent.Goal!, Lineage: run.Lineage));
        await Task.Delay(500);
        var again = await Eventually.RunAsync(Http, fork.RunId, _ => true, "the fork");
        Assert.That(again.Steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(again.Steps.Take(2).Select(s => s.Outcomes.Count), Is.EqualTo(new[] { 1, 1 }));
    }

    [Test]
    public async Task Should_refuse_a_step_out_of_range_an_unknown_run_another_tenants_run_and_a_run_without_a_transcript()
    {
        var parent = await ParentAsync();

        using var outOfRange = await Http.PostAsJsonAsync($"/runs/{parent.RunId}/fork", new { fromStep = 4 });
        using var negative = await Http.PostAsJsonAsync($"/runs/{parent.RunId}/fork", new { fromStep = -1 });
        using var missing = await Http.PostAsJsonAsync($"/runs/{parent.RunId}/fork", new { model = "x" });
        using var version = await Http.PostAsJsonAsync($"/runs/{parent.RunId}/fork", new { fromStep = 1, agentVersion = "latest" });
        using var unknown = await Http.PostAsJsonAsync($"/runs/{Guid.NewGuid()}/fork", new { fromStep = 1 });
        var other = await ClientAsync("other-tenant", GatewayRoles.All);
        using var otherTenant = await other.PostAsJsonAsync($"/runs/{parent.RunId}/fork", new { fromStep = 1 });

        Assert.That(outOfRange.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await outOfRange.Content.ReadAsStringAsync(), Does.Contain($"Step 4 is out of range: run {parent.RunId} has 3 recorded step(s); fork from a step between 0 and 3."));
        Assert.That(negative.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await missing.Content.ReadAsStringAsync(), Does.Contain("'fromStep' is missing"));
        Assert.That(await version.Content.ReadAsStringAsync(), Does.Contain("'agentVersion' is 'latest'"));
        Assert.That((unknown.StatusCode, otherTenant.StatusCode), Is.EqualTo((HttpStatusCode.NotFound, HttpStatusCode.NotFound)));
        Assert.That(await otherTenant.Content.ReadAsStringAsync(), Does.Contain($"No run {parent.RunId} is known."));

        // A goal refused at its start: the run is recorded, failed, with no step.
        var refused = Guid.NewGuid();
        await App.Services.GetRequiredService<MassTransit.IBus>().Publish(new GoalReceived(refused, "default", "poster", "Add.", Limits: new RunLimits(MaxSteps: -1)));
        await EndedAsync(refused);
        using var empty = await Http.PostAsJsonAsync($"/runs/{refused}/fork", new { fromStep = 0 });
        Assert.That(empty.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await empty.Content.ReadAsStringAsync(), Does.Contain($"Run {refused} has no recorded transcript"));
        Assert.That(Fake.RequestCount, Is.Zero, "nothing was started");
    }
}
