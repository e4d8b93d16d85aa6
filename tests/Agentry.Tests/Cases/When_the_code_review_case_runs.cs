using Agentry.Cli;
using Agentry.Tests.Llm;

namespace Agentry.Tests.Cases;

/// Case 2 of the six (docs/cases/code-review.md): the shipped code-review agent, in the embedded
/// default, with the scripted model reviewing pull request #1 of the sample forge: the real pyflakes
/// and the repository's tests run in the sandbox, a first patch that still fails a test, the right
/// one, and the fix opened on the forge; and a pull request whose tests never pass.
public sealed class When_the_code_review_case_runs
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    private string Forge => _folder.File("forge");

    private Dictionary<string, string?> Settings => new()
    {
        ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
        ["Tools:Forge:Root"] = Forge,
        ["Tools:Files:Root"] = _folder.File("workspaces"),
        ["Llm:DefaultProvider"] = "scripted",
        ["Llm:Providers:scripted:Kind"] = "openai-compatible",
        ["Llm:Providers:scripted:Endpoint"] = _fake.BaseUrl.ToString(),
        ["Llm:Providers:scripted:MaxRetries"] = "0",
        ["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150",
        ["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600",
    };

    private async Task<(int ExitCode, string Output)> Run(string goal)
    {
        var (exit, ran, failed) = await AgentryRun.RunAsync(
            new RunOptions(goal, "code-review", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, Settings, Timeout: TimeSpan.FromMinutes(3)));
        return (exit, ran + failed);
    }

    [Test]
    public async Task Should_fix_the_pull_request_until_its_tests_pass_and_open_the_fix_with_a_review()
    {
        CodeReviewScenario.Script(_fake);

        var (exit, output) = await Run("Review pull request #1 of acme/pricing: Bulk discount for large orders");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        CodeReviewScenario.AssertTheModelSawTheAnalyserAndTheTests(_fake.Requests, output);
        await CodeReviewScenario.AssertTheFixIsOpenAsync(Forge);
        Assert.That(await CodeReviewScenario.GitAsync(Path.Combine(Forge, "repositories", "pricing.git"), "show", "feature/bulk-discount:pricing.py"),
            Does.Contain("totl"), "the reviewed branch is left as its author pushed it");

        // The trace of the run, step by step, with the calls in parallel where the model made them.
        Assert.That(output, Does.Contain("call     forge_pull_request {\"number\":1}").And.Contain("call     forge_checkout {\"number\":1}"));
        Assert.That(output, Does.Contain("call     forge_open_fix"));

        // Seven replies of 10 + 5 tokens and the answer's 1200 + 80, priced at 150 and 600 per
        // million: 1270 * 0.00015 + 115 * 0.0006 = 0.2595.
        Assert.That(output, Does.Contain("Completed in 8 steps, 1385 tokens (1270 in, 115 out), $0.2595,"), output);
    }

    [Test]
    public async Task Should_stop_at_its_step_budget_without_opening_a_fix_when_the_tests_never_pass()
    {
        // The model keeps rewriting the condition without seeing the boundary: every variant fails
        // the same test. Each call differs, so the loop detector does not stop it first: the budget does.
        string[] attempts = ["quantity > BULK_QUANTITY", "BULK_QUANTITY < quantity", "not quantity <= BULK_QUANTITY", "quantity - BULK_QUANTITY > 0", "quantity > int(BULK_QUANTITY)"];
        string[] runs = ["cd pr-1 && python3 -m unittest 2>&1", "cd pr-1 && python3 -m unittest -v 2>&1", "cd pr-1 && python3 -m unittest tests.test_pricing 2>&1", "cd pr-1 && python3 -m unittest -k bulk 2>&1"];
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-forge_pull_request", """{"number":1}"""), new FakeToolCall("call_2", "tools-forge_checkout", """{"number":1}"""));
        for (var step = 2; step <= 10; step++)
        {
            _fake.ReplyWithToolCalls(step % 2 == 0
                ? CodeReviewScenario.Write($"call_{step + 1}", CodeReviewScenario.Pricing(attempts[(step - 2) / 2]))
                : CodeReviewScenario.Shell($"call_{step + 1}", runs[(step - 3) / 2]));
        }

        var (exit, output) = await Run("Review pull request #1 of acme/pricing: Bulk discount for large orders");

        Assert.That(exit, Is.Not.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Step limit reached: 10 steps taken without a final answer."), output);
        Assert.That(_fake.RequestCount, Is.EqualTo(10), "no model call past the budget");
        Assert.That(_fake.Requests[^1].Body, Does.Contain("FAILED (failures=1)"), "the tests were still failing when the budget ran out");
        var repository = Path.Combine(Forge, "repositories", "pricing.git");
        Assert.That(await CodeReviewScenario.GitAsync(repository, "branch", "--list", "fix/*"), Is.Empty, "no fix branch");
        Assert.That(await CodeReviewScenario.Rows(Path.Combine(Forge, "forge.db"), "SELECT id FROM reviews"), Is.Empty, "no review");
        Assert.That(await CodeReviewScenario.Rows(Path.Combine(Forge, "forge.db"), "SELECT number FROM pull_requests"), Is.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task Should_say_with_the_offline_model_that_reviewing_needs_a_real_model_and_touch_nothing()
    {
        var (exit, ran, failed) = await AgentryRun.RunAsync(new RunOptions("Review pull request #1 of acme/pricing: Bulk discount for large orders", "code-review", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
            new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString, ["Tools:Forge:Root"] = Forge, ["Tools:Files:Root"] = _folder.File("workspaces") }));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), ran + failed);
        Assert.That(ran, Does.Contain("Configure a real model"));
        Assert.That(Directory.Exists(Forge), Is.False, "no tool of the forge was called");
    }
}
