using System.Net;
using System.Net.Http.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway.Lineage;
using Agentry.Gateway.Security;
using Agentry.Tests.Llm;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.Lineage;

/// POST /runs/{id}/replay and `agentry runs replay` in one process: each of a finished run's steps is
/// decided again from its recorded history and tool results, no tool runs, and the new decisions are
/// compared with the recorded ones.
public sealed class When_a_run_is_replayed : LineageServer
{
    [Test]
    public async Task Should_report_no_difference_when_the_model_decides_the_same_and_never_post_again()
    {
        var parent = await ParentAsync();
        var posts = Posts;
        ScriptParent();

        var (exit, output, error) = await ReplayWithCliAsync(parent.RunId);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("0 of 3 decided step(s) differ"));
        Assert.That(output, Does.Contain("   2  same     http_post "));
        Assert.That(Posts, Is.EqualTo(posts), "the side-effecting tool was not called again");
        Assert.That(Fake.Requests, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task Should_show_the_steps_decided_otherwise_and_plan_each_from_the_recorded_history()
    {
        var parent = await ParentAsync();
        var posts = Posts;
        // Step 2 computes instead of posting, step 3 answers otherwise.
        Fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-calculator", """{ "expression" : "1 + 1" }"""))
            .ReplyWithToolCalls(new FakeToolCall("call_9", "tools-calculator", """{"expression":"2 * 1"}"""))
            .ReplyWithAnswer("The sum is 2.");

        var replay = await StartAsync($"/runs/{parent.RunId}/replay", new { });
        var run = await EndedAsync(replay.RunId);
        var compared = (await Http.GetFromJsonAsync<ReplayComparisonView>($"/runs/{replay.RunId}/replay", Web))!;

        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(compared.Comparison.Select(s => (s.Step, s.Same)), Is.EqualTo(new[] { (1, true), (2, false), (3, false) }),
            "step 1 has the same arguments in another layout");
        Assert.That(compared.Comparison[1].Recorded, Does.StartWith("http_post {\"body\":{\"sum\":2},\"url\":"));
        Assert.That(compared.Comparison[1].New, Is.EqualTo("calculator {\"expression\":\"2 * 1\"}"));
        Assert.That((compared.Comparison[2].Recorded, compared.Comparison[2].New), Is.EqualTo(("answer: Posted 2.", "answer: The sum is 2.")));
        Assert.That((compared.Differences, compared.Decided, compared.Steps), Is.EqualTo((2, 3, 3)));
        Assert.That(Posts, Is.EqualTo(posts), "the replay posted nothing");

        // Teacher forcing: step 3 was planned from the recorded step 2 (the post and its response),
        // not from the replay's own decision at step 2.
        var third = Fake.Requests[2].Messages.EnumerateArray().ToList();
        Assert.That(third.Count(m => m.GetProperty("role").GetString() == "tool"), Is.EqualTo(2));
        Assert.That(third.Last().GetProperty("content").GetString(), Does.Contain("received"));
        Assert.That(Fake.Requests[2].Body, Does.Not.Contain("2 * 1"));

        Assert.That(run.Lineage, Is.EqualTo(new RunLineage(parent.RunId, LineageKind.Replay, 0, run.Definition?.AgentHash)));
        Assert.That(run.Definition!.DiffersFromCurrent, Is.True, "the parent's definition without the response cache: a cached reply would be the recorded decision");
        Assert.That(run.Steps.Select(s => s.Outcomes.Count), Is.EqualTo(new[] { 0, 0, 0 }), "no call of the replay ran");
        Assert.That(run.Answer, Is.EqualTo("The sum is 2."));
        var parentNow = await Eventually.RunAsync(Http, parent.RunId, r => r.Children is { Count: > 0 }, "the parent listing its replay");
        Assert.That(parentNow.Children, Is.EqualTo(new[] { new RunChild(replay.RunId, LineageKind.Replay, 0) }));
    }

    [Test]
    public async Task Should_refuse_an_unknown_run_another_tenants_run_a_run_without_a_transcript_and_a_run_that_is_no_replay()
    {
        var parent = await ParentAsync();
        using var unknown = await Http.PostAsJsonAsync($"/runs/{Guid.NewGuid()}/replay", new { });
        var other = await ClientAsync("other-tenant", GatewayRoles.All);
        using var otherTenant = await other.PostAsJsonAsync($"/runs/{parent.RunId}/replay", new { });
        using var notAReplay = await Http.GetAsync($"/runs/{parent.RunId}/replay");

        var refused = Guid.NewGuid();
        await App.Services.GetRequiredService<MassTransit.IBus>().Publish(new GoalReceived(refused, "default", "poster", "Add.", Limits: new RunLimits(MaxSteps: -1)));
        await EndedAsync(refused);
        using var empty = await Http.PostAsJsonAsync($"/runs/{refused}/replay", new { });

        Assert.That((unknown.StatusCode, otherTenant.StatusCode), Is.EqualTo((HttpStatusCode.NotFound, HttpStatusCode.NotFound)));
        Assert.That(notAReplay.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await notAReplay.Content.ReadAsStringAsync(), Does.Contain($"Run {parent.RunId} is not a replay"));
        Assert.That(empty.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await empty.Content.ReadAsStringAsync(), Does.Contain("has no recorded transcript"));
        Assert.That(Fake.RequestCount, Is.Zero, "nothing was started");
    }

    private async Task<(int Exit, string Output, string Error)> ReplayWithCliAsync(Guid runId)
    {
        var key = await CreateKeyAsync("default", [GatewayRoles.Submit, GatewayRoles.Read]);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await LineageCommands.ReplayAsync(new GatewayTarget(LocalHttpServer.BaseAddressOf(App).ToString(), key), runId.ToString(), null, TimeSpan.FromSeconds(60), output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }
}
