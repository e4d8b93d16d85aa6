using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Agentry.Distributed.Tests;

/// `agentry eval DATASET --bus amqp://...` as a separate process against every service as its own
/// process (offline model): the cases run on the deployment, the CLI grades and stores them in its
/// own SQLite file; the deployment's Evaluator grades the same runs online, and `agentry eval grades`
/// reads those grades back through the Gateway.
[NonParallelizable]
public sealed class When_a_dataset_is_evaluated_on_a_deployment
{
    private Deployment _deployment = null!;
    private string _folder = null!;

    private string Agents => Path.Combine(_folder, "agents");

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-eval-bus", Guid.NewGuid().ToString("N"))).FullName;
        Directory.CreateDirectory(Agents);
        // The shipped assistant, grading every run online as well.
        await File.WriteAllTextAsync(Path.Combine(Agents, "assistant.yaml"), await File.ReadAllTextAsync(Path.Combine(Repository.Root, "agents", "assistant.yaml")) + """

            evaluation:
              online:
                sample: 1.0
                checks:
                  matches: ['^\d+$']
            """);
        _deployment = await Deployment.StartAsync(new Dictionary<string, string> { ["Agents__Path"] = Agents });
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        await _deployment.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task Should_run_the_cases_on_the_deployment_grade_and_store_them_and_read_their_online_grades()
    {
        var dataset = Path.Combine(_folder, "small.yaml");
        await File.WriteAllTextAsync(dataset, """
            agent: assistant
            cases:
              - id: arithmetic
                goal: What is 17 * 23 + 4?
                expect:
                  answer: { contains: "395" }
                  tools: { called: [calculator] }
              - id: wrong-total
                goal: What is 1000 / 8?
                expect:
                  answer: { contains: "126" }
            """);
        var json = Path.Combine(_folder, "result.json");

        var (exit, output) = await CliAsync("eval", dataset, "--bus", _deployment.AmqpUrl, "--agents", Agents, "--json", json);

        var why = output + Environment.NewLine + await _deployment.DescribeAsync();
        Assert.That(exit, Is.EqualTo(1), "one case fails: " + why);
        Assert.That(output, Does.Contain($"on the deployment at {new Uri(_deployment.AmqpUrl).Host}"), why);
        Assert.That(output, Does.Match(@"arithmetic\s+assistant\s+1/1\s+PASS"), why);
        Assert.That(output, Does.Match(@"wrong-total\s+assistant\s+0/1\s+FAIL"), why);
        Assert.That(output, Does.Contain("answer: The answer does not contain \"126\"."), why);
        Assert.That(output, Does.Contain("Cases passed: 1 of 2 (50%)"), why);

        // Stored in the CLI's own file: `eval list` finds it.
        var record = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        var evalRun = record.GetProperty("id").GetString();
        var (listExit, list) = await CliAsync("eval", "list");
        Assert.That(listExit, Is.EqualTo(0), list);
        Assert.That(list, Does.Contain($"{evalRun} ").And.Contain("small (").And.Contain("1/2 cases passed"));

        // The cases ran on the deployment: its Memory recorded each run.
        var runs = record.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("caseId").GetString()!, c => c.GetProperty("trials")[0].GetProperty("runId").GetGuid());
        using var http = await _deployment.GatewayClientAsync();
        foreach (var (id, runId) in runs)
        {
            var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
            Assert.That((run.GetProperty("agent").GetString(), run.GetProperty("status").GetString()), Is.EqualTo(("assistant", "Completed")), $"case {id}");
        }

        // The deployment's Evaluator graded the same runs online; the Gateway shows it, and so does the CLI.
        var graded = await GradesAsync(http, runs["arithmetic"]);
        Assert.That(graded.GetProperty("score").GetDouble(), Is.EqualTo(1.0), graded.ToString());
        var key = await _deployment.IssueKeyAsync(roles: ["read"]);
        var (gradesExit, grades) = await CliAsync("eval", "grades", runs["arithmetic"].ToString(), "--gateway", http.BaseAddress!.ToString(), "--key", key);
        Assert.That(gradesExit, Is.EqualTo(0), grades);
        Assert.That(grades, Does.Contain("Score: 1.00"));
        Assert.That(grades, Does.Match(@"answer\s+1\.00\s+PASS"));
    }

    private async Task<JsonElement> GradesAsync(HttpClient http, Guid runId)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
            if (run.TryGetProperty("onlineEvaluation", out var grades) && grades.ValueKind == JsonValueKind.Object)
            {
                return grades;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"run {runId} has no online grades after 60 s: {run}{Environment.NewLine}{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
            }

            await Task.Delay(200);
        }
    }

    /// The CLI as a process of its own, with its local store in the test's folder.
    private Task<(int ExitCode, string Output)> CliAsync(params string[] arguments) =>
        AgentryCli.RunAsync(
            arguments, new Dictionary<string, string> { ["ConnectionStrings__sqlite"] = $"Data Source={Path.Combine(_folder, "cli.db")}" }, _folder, TimeSpan.FromMinutes(3),
            async () => $"{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
}
