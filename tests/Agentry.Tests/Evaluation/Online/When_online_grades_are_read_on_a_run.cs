using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Cli;
using Agentry.Cli.Eval;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;

namespace Agentry.Tests.Evaluation.Online;

/// `agentry serve` (the embedded runtime behind the Gateway) on the offline model, with an agent that
/// grades every run online: the Evaluator's grades reach Memory as RunGraded and show on
/// GET /runs/{id} and in `agentry eval grades`, from the Gateway and from the local store.
public sealed class When_online_grades_are_read_on_a_run : AgentryServerFixture
{
    private string Agents => Folder.File("agents");

    protected override void Configure(Dictionary<string, string?> settings) => settings["Agents:Path"] = WriteAgents(Agents);

    /// Agents "graded" (every run graded online) and "plain" (none), with the assistant's instructions
    /// and tools, so the offline model computes with the calculator: two steps, the call and the
    /// answer. A graded run's answer check holds; its one-step budget does not.
    internal static string WriteAgents(string folder)
    {
        var assistant = File.ReadAllText(Path.Combine(TestAgents.RepositoryAgentsFolder(), "assistant.yaml"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "graded.yaml"), assistant + """

            evaluation:
              online:
                sample: 1.0
                checks:
                  matches: ['^\d+$']
                  max_steps: 1
            """);
        File.WriteAllText(Path.Combine(folder, "plain.yaml"), assistant);
        return folder;
    }

    [Test]
    public async Task Should_show_the_runs_score_and_each_grade_on_get_runs_id()
    {
        var runId = await StartAsync("graded");

        var run = await Eventually.RunAsync(Http, runId, r => r.OnlineEvaluation is not null, "the run's online grades");

        var grades = run.OnlineEvaluation!;
        Assert.Multiple(() =>
        {
            Assert.That(run.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(grades.Score, Is.EqualTo(0.5), "the answer check held, the step budget did not");
            Assert.That(grades.Sequence, Is.EqualTo(1), "the agent's first scored run");
            Assert.That(grades.GradedAt, Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5)));
            Assert.That(grades.Grades.Select(g => (g.Grader, g.Passed, g.NotGraded)), Is.EquivalentTo(new[] { ("answer", true, false), ("budget", false, false) }));
            Assert.That(grades.Grades.Single(g => g.Grader == "budget").Reason, Does.Contain("step"));
        });

        // As a browser or script reads it.
        var json = await Http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
        var online = json.GetProperty("onlineEvaluation");
        Assert.That(online.GetProperty("score").GetDouble(), Is.EqualTo(0.5));
        Assert.That(online.GetProperty("grades")[0].TryGetProperty("notGraded", out _), Is.True, json.ToString());
    }

    [Test]
    public async Task Should_leave_a_run_of_an_agent_without_online_evaluation_ungraded()
    {
        var runId = await StartAsync("plain");
        var run = await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to complete");

        // The graded agent's run, started after it and graded by now, says the Evaluator has had its turn.
        var after = await StartAsync("graded");
        await Eventually.RunAsync(Http, after, r => r.OnlineEvaluation is not null, "the later run's grades");

        Assert.That((await Http.GetFromJsonAsync<RunView>($"/runs/{runId}"))!.OnlineEvaluation, Is.Null);
        Assert.That(run.OnlineEvaluation, Is.Null);
    }

    [Test]
    public async Task Should_print_the_grades_with_the_cli_from_the_gateway_and_from_the_local_store()
    {
        var runId = await StartAsync("graded");
        await Eventually.RunAsync(Http, runId, r => r.OnlineEvaluation is not null, "the run's online grades");

        var remote = await GradesAsync(runId.ToString(), await GatewayAsync());
        var local = await GradesAsync(runId.ToString(), gateway: null);

        foreach (var (exit, output, error) in new[] { remote, local })
        {
            Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
            Assert.That(output, Does.Contain($"Run {runId} of graded, graded online "));
            Assert.That(output, Does.Contain("Score: 0.50 (the agent's scored run 1)"));
            Assert.That(output, Does.Match(@"answer\s+1\.00\s+PASS\s"));
            Assert.That(output, Does.Match(@"budget\s+0\.00\s+FAIL\s+\S"));
        }
    }

    [Test]
    public async Task Should_say_why_a_run_has_no_grades_and_exit_1()
    {
        var runId = await StartAsync("plain");
        await Eventually.RunAsync(Http, runId, r => r.Status == RunStatus.Completed, "the run to complete");

        var (exit, output, _) = await GradesAsync(runId.ToString(), await GatewayAsync());

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted));
        Assert.That(output, Does.Contain($"Run {runId} of plain has no online grades: it was not sampled: agent plain has no evaluation.online in "));
    }

    [Test]
    public async Task Should_exit_2_for_an_id_that_is_no_run_id_or_a_run_nobody_knows()
    {
        var gateway = await GatewayAsync();
        var malformed = await GradesAsync("run-17", gateway);
        var unknown = Guid.NewGuid();
        var missing = await GradesAsync(unknown.ToString(), gateway);

        Assert.That((malformed.Exit, missing.Exit), Is.EqualTo((ExitCodes.BadInput, ExitCodes.BadInput)));
        Assert.That(malformed.Error, Does.Contain("'run-17' is not a run id"));
        Assert.That(missing.Error, Does.Contain($"No run {unknown} is recorded at {gateway.Url}"));
    }

    private async Task<Guid> StartAsync(string agent)
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent, goal = "What is 17 * 23 + 4?" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    private async Task<GatewayTarget> GatewayAsync() =>
        new(LocalHttpServer.BaseAddressOf(App).ToString(), await CreateKeyAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read]));

    private async Task<(int Exit, string Output, string Error)> GradesAsync(string runId, GatewayTarget? gateway)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await EvalGradesCommand.ShowAsync(
            runId, gateway, Agents, new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = Folder.SqliteConnectionString }, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }
}
