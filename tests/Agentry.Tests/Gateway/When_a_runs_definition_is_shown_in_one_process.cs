using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;

namespace Agentry.Tests.Gateway;

/// Embedded mode (`agentry serve`: every service in one process, the saga and the pinned
/// definitions in its memory): the run's view names the definition it is pinned to.
public sealed class When_a_runs_definition_is_shown_in_one_process : AgentryServerFixture
{
    [Test]
    public async Task Should_show_the_pinned_definition_and_refuse_to_move_a_finished_run()
    {
        using var started = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 6 * 7?" });
        var runId = (await started.Content.ReadFromJsonAsync<Agentry.Gateway.StartRunResponse>())!.RunId;

        var run = await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed && r.Definition is not null, "the completed run with its definition");
        using var moved = await Http.PostAsync($"/runs/{runId}/definition", null);

        var assistant = File.ReadAllText(Path.Combine(TestAgents.RepositoryAgentsFolder(), "assistant.yaml"));
        Assert.That(run.Definition!.AgentHash, Is.EqualTo(Agentry.Agents.Pinning.AgentDefinitionHash.Of(assistant)));
        Assert.That((run.Definition.CurrentHash, run.Definition.DiffersFromCurrent, run.Definition.Finished), Is.EqualTo((run.Definition.AgentHash, false, true)));
        Assert.That(moved.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await moved.Content.ReadAsStringAsync(), Does.Contain($"Run {runId} is Completed: a finished run keeps the definition it ended with."));
    }
}
