using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Evaluation.Results;
using Agentry.Gateway.Evaluations;
using Agentry.Gateway.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.WebConsole;

/// GET /evaluations, /evaluations/{id} and /evaluations/compare over real Kestrel, reading eval runs
/// that `agentry eval` stored in the server's own SQLite file (StoredEvalRuns).
public sealed class When_evaluations_are_read_over_http : AgentryServerFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    [Test]
    public async Task Should_list_the_stored_eval_runs_newest_first_with_their_totals()
    {
        var (passing, regressed) = await StoredEvalRuns.RunAsync(Folder);

        var runs = (await Http.GetFromJsonAsync<EvalRunList>("/evaluations"))!.Runs;

        Assert.That(runs.Select(r => r.Id), Is.EqualTo(new[] { regressed, passing }));
        var store = App.Services.GetRequiredService<IEvalResultStore>();
        foreach (var listed in runs)
        {
            var record = (await store.GetAsync(listed.Id, CancellationToken.None))!;
            Assert.That(listed, Is.EqualTo(EvalRunListItem.Of(EvalRunSummary.Of(record))), "the list's totals are the record's");
        }

        Assert.Multiple(() =>
        {
            Assert.That(runs.Select(r => (r.Dataset, r.Cases, r.CasesPassed)), Is.EqualTo(new[] { ("assistant", 3, 1), ("assistant", 3, 3) }));
            Assert.That(runs[1].PassRate, Is.EqualTo(1));
            Assert.That(runs.Select(r => r.Agents), Has.All.Match("^assistant@[0-9a-f]{12}$"));
            Assert.That(runs[0].Agents, Is.Not.EqualTo(runs[1].Agents), "the changed agent has another hash");
            Assert.That(runs.Select(r => r.Model), Has.All.EqualTo("agentry-offline"));
            Assert.That(runs.Select(r => r.Tokens), Has.All.GreaterThan(0));
            Assert.That(runs.Select(r => r.LatencyP95Ms >= r.LatencyP50Ms && r.LatencyP50Ms > 0), Has.All.True);
        });
        Assert.That((await Http.GetFromJsonAsync<EvalRunList>("/evaluations?dataset=assistant&limit=1"))!.Runs.Select(r => r.Id), Is.EqualTo(new[] { regressed }));
        Assert.That((await Http.GetFromJsonAsync<EvalRunList>("/evaluations?dataset=handbook"))!.Runs, Is.Empty);
    }

    [Test]
    public async Task Should_show_a_run_with_its_cases_grader_scores_and_failures()
    {
        var (passing, regressed) = await StoredEvalRuns.RunAsync(Folder);

        var run = (await Http.GetFromJsonAsync<EvalRunView>($"/evaluations/{regressed}"))!;

        Assert.That((run.Dataset, run.DatasetFile, run.Repeat, run.CasesPassed, run.PreviousId), Is.EqualTo(("assistant", StoredEvalRuns.DatasetFile, 1, 1, (Guid?)passing)));
        Assert.That(run.CaseResults.Select(c => (c.CaseId, c.Verdict)), Is.EqualTo(new[]
        {
            ("arithmetic-uses-calculator", "Fail"), ("time-in-tokyo", "Pass"), ("division-by-calculator", "Fail"),
        }));
        var arithmetic = run.CaseResults[0];
        Assert.Multiple(() =>
        {
            Assert.That(arithmetic.Failures, Has.Some.Contains("calculator was not called"));
            Assert.That(arithmetic.Graders.Single(g => g.Grader == "tools").Passed, Is.False);
            Assert.That(arithmetic.Graders.Single(g => g.Grader == "status").Passed, Is.True);
            Assert.That((arithmetic.Passes, arithmetic.Trials, arithmetic.TrialResults.Single().Passed), Is.EqualTo((0, 1, false)));
            Assert.That(run.Graders.Select(g => g.Grader), Is.EqualTo(new[] { "status", "answer", "tools", "budget", "rubric" }));
            Assert.That(run.CaseResults[1].Graders.Select(g => g.Passed), Has.All.True);
        });

        // A trial's run is the runtime's own: the server reads it from the same file.
        var trial = (await Http.GetFromJsonAsync<RunView>($"/runs/{arithmetic.TrialResults[0].RunId}"))!;
        Assert.That((trial.Agent, trial.Goal), Is.EqualTo(("assistant", arithmetic.Goal)));

        Assert.That((await Http.GetFromJsonAsync<EvalRunView>($"/evaluations/{passing}"))!.PreviousId, Is.Null, "the dataset's first run has none before it");
    }

    [Test]
    public async Task Should_compare_two_runs_case_by_case()
    {
        var (passing, regressed) = await StoredEvalRuns.RunAsync(Folder);

        var comparison = (await Http.GetFromJsonAsync<EvalComparisonView>($"/evaluations/compare?a={passing}&b={regressed}"))!;

        Assert.That((comparison.Baseline.Id, comparison.Current.Id, comparison.Regressions, comparison.Improvements, comparison.HasRegression),
            Is.EqualTo((passing, regressed, 2, 0, true)));
        Assert.That(comparison.PassRateDrop, Is.EqualTo(2.0 / 3).Within(1e-9));
        Assert.That(comparison.Cases.Select(c => (c.CaseId, c.Change, c.Baseline!.Verdict, c.Current!.Verdict)), Is.EqualTo(new[]
        {
            ("arithmetic-uses-calculator", "Regressed", "Pass", "Fail"), ("time-in-tokyo", "Unchanged", "Pass", "Pass"), ("division-by-calculator", "Regressed", "Pass", "Fail"),
        }));
        Assert.That(comparison.Cases[0].Current!.Failures, Has.Some.Contains("calculator was not called"));
        Assert.That(comparison.Caveats, Is.Empty, "same dataset version and judge");

        var back = (await Http.GetFromJsonAsync<EvalComparisonView>($"/evaluations/compare?a={regressed}&b={passing}"))!;
        Assert.That((back.Regressions, back.Improvements, back.HasRegression), Is.EqualTo((0, 2, false)));
    }

    [TestCase("/evaluations/not-a-run", HttpStatusCode.BadRequest, "'not-a-run' is not an eval run id")]
    [TestCase("/evaluations/5b1e0000-0000-0000-0000-000000000001", HttpStatusCode.NotFound, "No eval run 5b1e0000-0000-0000-0000-000000000001 is stored")]
    [TestCase("/evaluations?limit=0", HttpStatusCode.BadRequest, "'limit' is '0'; it is a whole number from 1 to 500.")]
    [TestCase("/evaluations?agent=assistant", HttpStatusCode.BadRequest, "'agent' is not a filter of the eval runs; they take dataset, limit.")]
    [TestCase("/evaluations/compare?a=5b1e0000-0000-0000-0000-000000000001", HttpStatusCode.BadRequest, "'b' is missing")]
    [TestCase("/evaluations/compare?a=latest&b=5b1e0000-0000-0000-0000-000000000001", HttpStatusCode.BadRequest, "'a' is 'latest', not an eval run id")]
    [TestCase("/evaluations/compare?a=5b1e0000-0000-0000-0000-000000000001&b=5b1e0000-0000-0000-0000-000000000002", HttpStatusCode.NotFound, "No eval run 5b1e0000-0000-0000-0000-000000000001")]
    public async Task Should_refuse_what_it_cannot_read_and_say_why(string path, HttpStatusCode status, string problem)
    {
        using var response = await Http.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(problem));
    }

    /// Eval runs are the deployment's: a reader of any tenant reads them; the read role is needed.
    [Test]
    public async Task Should_let_readers_of_any_tenant_read_them_and_no_one_else()
    {
        var run = Evaluation.Stores.When_eval_runs_are_stored.Run("assistant", DateTimeOffset.UtcNow, true, false);
        await App.Services.GetRequiredService<IEvalResultStore>().SaveAsync(run, CancellationToken.None);
        var acmeReader = await ClientAsync("acme", [GatewayRoles.Read]);
        var submitter = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Submit]);
        var anonymous = await ClientAsync(tenant: null);

        Assert.That((await acmeReader.GetFromJsonAsync<EvalRunList>("/evaluations"))!.Runs.Select(r => r.Id), Is.EqualTo(new[] { run.Id }));
        foreach (var path in new[] { "/evaluations", $"/evaluations/{run.Id}", $"/evaluations/compare?a={run.Id}&b={run.Id}" })
        {
            using var read = await acmeReader.GetAsync(path);
            using var refused = await submitter.GetAsync(path);
            using var unknown = await anonymous.GetAsync(path);
            Assert.That((read.StatusCode, refused.StatusCode, unknown.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized)), path);
        }
    }
}
