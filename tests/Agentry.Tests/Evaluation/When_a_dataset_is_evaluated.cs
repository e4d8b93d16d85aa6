using System.Text.RegularExpressions;
using Agentry.Cli;
using Agentry.Cli.Eval;
using Agentry.Evaluation.Datasets;
using Agentry.Tests.Deploy;

namespace Agentry.Tests.Evaluation;

/// `agentry eval` as the CLI runs it: every case through the embedded runtime (saga, ToolExecutor,
/// Memory, Evaluator) on the offline model, results stored in the test's own SQLite file.
public sealed partial class When_a_dataset_is_evaluated
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private Dictionary<string, string?> Settings => new()
    {
        ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
        ["Tools:Orders:ConnectionString"] = $"Data Source={_folder.File("orders.db")};Pooling=False",
    };

    private static string Shipped(string relative) => RepositoryFiles.PathOf(relative);

    private async Task<(int Exit, string Output, string Error)> EvalAsync(EvalOptions options)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exit = await EvalCommands.EvaluateAsync(options with { Settings = Settings, AgentsPath = options.AgentsPath ?? Shipped("agents") }, output, error, timeout.Token);
        return (exit, output.ToString(), error.ToString());
    }

    private static Guid StoredId(string output) => Guid.Parse(StoredPattern().Match(output).Groups[1].Value);

    [GeneratedRegex("Stored as ([0-9a-f-]{36})")]
    private static partial Regex StoredPattern();

    [TestCase("assistant", 3)]
    [TestCase("handbook", 2)]
    [TestCase("customer-support", 2)]
    public async Task Should_pass_every_case_of_a_shipped_dataset_on_the_offline_model(string dataset, int cases)
    {
        var (exit, output, error) = await EvalAsync(new EvalOptions(Shipped($"agents/evals/{dataset}.yaml")));
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain($"Cases passed: {cases} of {cases} (100%)"));
            Assert.That(output, Does.Contain($"Agents: {dataset}@"));
            Assert.That(output, Does.Contain("Model: agentry-offline"));
            Assert.That(output, Does.Match(@"Latency: p50 \d+\.\d\d s, p95 \d+\.\d\d s"));
            Assert.That(error, Does.Contain($"[{cases}/{cases}]"), "plain progress lines on standard error when it is not a terminal");
            Assert.That(output, Does.Not.Contain("[1/"), "the table alone on standard output");
        });
    }

    [Test]
    public async Task Should_store_the_run_with_the_dataset_version_agent_hash_and_model()
    {
        var (exit, output, _) = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Repeat: 2, Concurrency: 2));
        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), "two of two passes is not enough to show a pass rate of 0.5 (Wilson lower bound 0.34): unstable\n" + output);
        Assert.That(output, Does.Contain("UNSTABLE").And.Contain("95% interval"));
        var stored = await new Agentry.Evaluation.Stores.Sqlite.SqliteEvalResultStore(_folder.SqliteConnectionString).GetAsync(StoredId(output), CancellationToken.None);
        Assert.That(stored, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(stored!.DatasetVersion, Is.EqualTo(DatasetLoader.LoadFile(Shipped("agents/evals/assistant.yaml")).Version));
            Assert.That(stored.Agents, Does.Match("^assistant@[0-9a-f]{12}$"));
            Assert.That(stored.Model, Is.EqualTo("agentry-offline"));
            Assert.That(stored.JudgeModel, Is.EqualTo("agentry-offline"));
            Assert.That(stored.JudgePromptVersion, Is.EqualTo(Agentry.Llm.RubricPrompt.Version));
            Assert.That(stored.Cases.Select(c => c.Trials.Count), Is.All.EqualTo(2));
            Assert.That(stored.Cases.SelectMany(c => c.Trials).Select(t => t.RunId).Distinct().Count(), Is.EqualTo(6));
            Assert.That(stored.Cases[0].Trials[0].Grades.Select(g => g.Grader), Is.EqualTo(new[] { "status", "answer", "tools", "budget", "rubric" }));
        });
    }

    /// The regression injected: a copy of the assistant without its calculator cannot answer the
    /// arithmetic cases; against a baseline of the shipped agent the gate exits 1 and names them,
    /// and `eval compare` says the same.
    [Test]
    public async Task Should_fail_the_gate_when_a_changed_agent_breaks_a_case()
    {
        var baselineFile = _folder.File("assistant-baseline.json");
        var baseline = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Json: baselineFile));
        Assert.That(baseline.Exit, Is.EqualTo(ExitCodes.Completed), baseline.Output + baseline.Error);

        var agents = Directory.CreateDirectory(_folder.File("agents")).FullName;
        foreach (var file in Directory.EnumerateFiles(Shipped("agents"), "*.yaml"))
        {
            File.Copy(file, Path.Combine(agents, Path.GetFileName(file)));
        }

        var assistant = Path.Combine(agents, "assistant.yaml");
        File.WriteAllText(assistant, File.ReadAllText(assistant).Replace("  - calculator\n", "", StringComparison.Ordinal));

        var broken = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Baseline: baselineFile, AgentsPath: agents));
        Assert.That(broken.Exit, Is.EqualTo(ExitCodes.NotCompleted), broken.Output + broken.Error);
        Assert.Multiple(() =>
        {
            Assert.That(broken.Output, Does.Match(@"arithmetic-uses-calculator\s+PASS 1/1\s+FAIL 0/1\s+REGRESSED"));
            Assert.That(broken.Output, Does.Match(@"division-by-calculator\s+PASS 1/1\s+FAIL 0/1\s+REGRESSED"));
            Assert.That(broken.Output, Does.Contain("calculator was not called"));
            Assert.That(broken.Output, Does.Contain("Gate: FAILED"));
        });

        var same = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Baseline: baselineFile));
        Assert.That(same.Exit, Is.EqualTo(ExitCodes.Completed), same.Output + same.Error);
        Assert.That(same.Output, Does.Contain("Gate: passed").And.Contain("0 regression(s)"));

        using var output = new StringWriter();
        using var error = new StringWriter();
        var compared = await EvalCommands.CompareAsync(StoredId(same.Output).ToString(), StoredId(broken.Output).ToString(), 0, Settings, output, error, CancellationToken.None);
        Assert.That(compared, Is.EqualTo(ExitCodes.NotCompleted), output + error.ToString());
        Assert.That(output.ToString(), Does.Contain("2 regression(s), 0 improvement(s)"));
        var improved = await EvalCommands.CompareAsync(StoredId(broken.Output).ToString(), StoredId(same.Output).ToString(), 0, Settings, output, error, CancellationToken.None);
        Assert.That(improved, Is.EqualTo(ExitCodes.Completed));
    }

    /// A run that failed in production becomes a case; the dataset still loads, and the case passes
    /// once the agent is fixed (here: the shipped one, with its normal token limit).
    [Test]
    public async Task Should_turn_a_failed_run_into_a_regression_case()
    {
        var agents = Directory.CreateDirectory(_folder.File("agents")).FullName;
        File.WriteAllText(Path.Combine(agents, "assistant.yaml"),
            File.ReadAllText(Shipped("agents/assistant.yaml")).Replace("max_tokens: 20000", "max_tokens: 100", StringComparison.Ordinal));
        var failed = await AgentryRun.RunAsync(new RunOptions("What is 12 * 12?", "assistant", agents, null, false, Settings));
        Assert.That(failed.ExitCode, Is.EqualTo(ExitCodes.NotCompleted), failed.Output);
        var runId = RunPattern().Match(failed.Output).Groups[1].Value;

        var dataset = _folder.Write("regressions.yaml", File.ReadAllText(Shipped("agents/evals/assistant.yaml")));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var added = await EvalCommands.AddRunAsync(runId, dataset, "token-limit", gateway: null, agents, Settings, output, error, CancellationToken.None);
        Assert.That(added, Is.EqualTo(ExitCodes.Completed), output + error.ToString());

        var @case = DatasetLoader.LoadFile(dataset).Cases.Single(c => c.Id == "token-limit");
        Assert.Multiple(() =>
        {
            Assert.That(@case.Goal, Is.EqualTo("What is 12 * 12?"));
            Assert.That(@case.Agent, Is.EqualTo("assistant"));
            Assert.That(@case.Expect.Status, Is.EqualTo(Agentry.Contracts.RunStatus.Completed));
            Assert.That(@case.Expect.Rubric!.Criteria, Does.Contain("ended failed").And.Contain("Token limit"));
            Assert.That(File.ReadAllText(dataset), Does.Contain($"# Added from run {runId} (failed)"));
        });

        var again = await EvalCommands.AddRunAsync(runId, dataset, "token-limit", gateway: null, agents, Settings, output, error, CancellationToken.None);
        Assert.That(again, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.ToString(), Does.Contain("defined twice").And.Contain("--id"));

        var (exit, evalOutput, evalError) = await EvalAsync(new EvalOptions(dataset));
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), evalOutput + evalError);
        Assert.That(evalOutput, Does.Match(@"token-limit\s+assistant\s+1/1\s+PASS"));
    }

    [GeneratedRegex("Run: ([0-9a-f-]{36})")]
    private static partial Regex RunPattern();

    [Test]
    public async Task Should_refuse_a_case_whose_agent_is_not_defined_naming_its_line()
    {
        var dataset = _folder.Write("orphan.yaml", "agent: assistant\ncases:\n  - id: a\n    goal: What is 1 + 1?\n  - id: b\n    agent: nobody\n    goal: What is 2 + 2?\n");
        var (exit, _, error) = await EvalAsync(new EvalOptions(dataset));
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.StartWith($"{dataset}:5:1: case 'b' is run by agent 'nobody', which is not defined."));
    }

    [Test]
    public async Task Should_refuse_a_malformed_dataset_naming_the_file_and_line()
    {
        var dataset = _folder.Write("broken.yaml", "cases:\n  - id: a\n    goal: x\n    expect:\n      max_step: 3\n");
        var (exit, _, error) = await EvalAsync(new EvalOptions(dataset));
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.StartWith($"{dataset}:5:7: unknown key 'max_step' in 'expect'."));
    }

    [TestCase(0, 1, "--repeat must be from 1 to 100")]
    [TestCase(1, 40, "--concurrency must be from 1 to 32")]
    public async Task Should_refuse_bad_options(int repeat, int concurrency, string problem)
    {
        var (exit, _, error) = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Repeat: repeat, Concurrency: concurrency));
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.Contain(problem));
    }

    [Test]
    public async Task Should_say_when_there_is_no_baseline_to_compare_with()
    {
        var (exit, _, error) = await EvalAsync(new EvalOptions(Shipped("agents/evals/assistant.yaml"), Baseline: "latest"));
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.Contain("There is no earlier eval run of assistant"));
    }
}
