using Agentry.Cli;
using Agentry.Cli.Eval;
using Agentry.Tests.Cases;
using Agentry.Tests.Deploy;
using Agentry.Tests.Llm;

namespace Agentry.Tests.Evaluation;

/// The datasets of the production cases (agents/evals/), run as `agentry eval` runs them: every case
/// through the embedded runtime, the model the scripted OpenAI-compatible fake replaying the case's
/// recorded scenario (the one its end-to-end test accepts). The dataset passes that behaviour and
/// fails a model that skips the work.
public sealed class When_a_case_dataset_is_evaluated
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

    [Test]
    public async Task Should_pass_the_data_pipeline_dataset_with_a_model_that_diagnoses_stages_and_promotes()
    {
        _fake.ScriptDiagnosisAndMigrations()
            .ReplyWithAnswer("Incident dq-7781: not fixed. The promotion of fix_orders_amount_mapping was denied; production still has 12 NULL amounts.")
            .ScriptDiagnosisAndMigrations()
            .ReplyWithAnswer(DataPipelineScenario.Report);

        var (exit, output, error) = await EvalAsync("data-pipeline");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Cases passed: 2 of 2 (100%)"));
        Assert.That(await DataPipelineScenario.Rows(Prod, "SELECT count(*) || '' FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "0" }),
            "the approved case promoted the fix");
    }

    [Test]
    public async Task Should_fail_the_data_pipeline_dataset_with_a_model_that_answers_without_fixing()
    {
        _fake.ReplyWithAnswer("Incident dq-7781: the pipeline looks fine, nothing to do.")
            .ReplyWithAnswer("Incident dq-7781: the pipeline looks fine, nothing to do.");

        var (exit, output, error) = await EvalAsync("data-pipeline");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output + error);
        Assert.That(output, Does.Contain("Cases passed: 0 of 2 (0%)").And.Contain("stage_migration was not called"));
    }

    [Test]
    public async Task Should_pass_the_prior_auth_dataset_with_a_model_that_fills_the_form_the_schema_accepts()
    {
        _fake.ScriptUpToTheSubmission()
            .ReplyWithAnswer("Not submitted: the clinician denied the submission of RX-200117. Nothing was sent to the payer.")
            .ScriptUpToTheSubmission()
            .ReplyWithAnswer("Submitted the prior authorization for RX-200117 (semaglutide) as PA-000001: criteria GLP1-1 to GLP1-5 met.");

        var (exit, output, error) = await EvalAsync("prior-auth");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Cases passed: 2 of 2 (100%)"));
        Assert.That(await PriorAuthScenario.Rows(Records, "SELECT prescription_id FROM pa_submissions"), Is.EqualTo(new[] { "RX-200117" }),
            "the approved case filed one submission, the denied one none");
    }

    [Test]
    public async Task Should_fail_the_prior_auth_dataset_with_a_model_that_claims_a_submission_it_never_made()
    {
        _fake.ReplyWithAnswer("Submitted RX-200117 as PA-000001.").ReplyWithAnswer("Submitted RX-200117 as PA-000001.");

        var (exit, output, error) = await EvalAsync("prior-auth");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output + error);
        Assert.That(output, Does.Contain("Cases passed: 0 of 2 (0%)").And.Contain("payer_submit_pa was not called"));
    }

    [Test]
    public async Task Should_pass_the_code_review_dataset_with_a_model_that_fixes_until_the_tests_pass()
    {
        CodeReviewScenario.Script(_fake);

        var (exit, output, error) = await EvalAsync("code-review");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Cases passed: 1 of 1 (100%)"));
        await CodeReviewScenario.AssertTheFixIsOpenAsync(_folder.File("forge"));
    }

    [Test]
    public async Task Should_fail_the_code_review_dataset_with_a_model_that_approves_without_running_the_tests()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "tools-forge_pull_request", """{"number":1}"""))
            .ReplyWithAnswer("Pull request #1 looks good to me: the discount logic is clear.");

        var (exit, output, error) = await EvalAsync("code-review");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output + error);
        Assert.That(output, Does.Contain("Cases passed: 0 of 1 (0%)").And.Contain("forge_open_fix was not called"));
    }

    [Test]
    public async Task Should_pass_the_market_research_dataset_with_a_model_that_cites_the_contradicting_filing()
    {
        _fake.ScriptTheReport().ReplyWithAnswer(MarketResearchScenario.Answer);

        var (exit, output, error) = await EvalAsync("market-research");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Cases passed: 1 of 1 (100%)"));
    }

    [Test]
    public async Task Should_fail_the_market_research_dataset_with_a_model_that_repeats_the_news()
    {
        _fake.ReplyWithToolCalls(MarketResearchScenario.Gather("call_1", "market_news"))
            .ReplyWithAnswer("ACME reaffirmed its outlook of 2.4 billion dollars [N-2041]. GLBX won a contract [N-2038].");

        var (exit, output, error) = await EvalAsync("market-research");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output + error);
        Assert.That(output, Does.Contain("Cases passed: 0 of 1 (0%)").And.Contain("market_filings was not called"));
    }

    [Test]
    public async Task Should_pass_the_lead_outreach_dataset_with_a_model_that_writes_from_each_company_s_pages()
    {
        _fake.ScriptFirstEmails()
            .ReplyWithAnswer("The rep denied both first emails: L-201 (Ana) and L-202 (Ben) were left unsent and stay new.")
            .ScriptFirstMorning()
            .ReplyWithAnswer("Sent first emails to L-201 (Northwind Analytics) and L-202 (Contoso Freight); follow-ups in 3 and 4 days.");

        var (exit, output, error) = await EvalAsync("lead-outreach");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("Cases passed: 2 of 2 (100%)"));
    }

    [Test]
    public async Task Should_fail_the_lead_outreach_dataset_with_a_model_that_mails_without_researching()
    {
        var unresearched = LeadOutreachScenario.Email("call_2", "L-201", "Quick question", "Hi Ana, do you have a minute for Relay? Sam");
        _fake.ReplyWithToolCalls(LeadOutreachScenario.Call("call_1", "crm_leads_due", new { })).ReplyWithToolCalls(unresearched)
            .ReplyWithAnswer("The rep denied the email to L-201.")
            .ReplyWithToolCalls(LeadOutreachScenario.Call("call_1", "crm_leads_due", new { })).ReplyWithToolCalls(unresearched)
            .ReplyWithAnswer("Sent a first email to L-201 and L-202.");

        var (exit, output, error) = await EvalAsync("lead-outreach");

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output + error);
        Assert.That(output, Does.Contain("Cases passed: 0 of 2 (0%)").And.Contain("company_research was not called"));
    }

    private string Prod => $"Data Source={_folder.File("warehouse.db")};Pooling=False";

    private string Records => $"Data Source={_folder.File("prior-auth.db")};Pooling=False";

    private async Task<(int Exit, string Output, string Error)> EvalAsync(string dataset)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Tools:Warehouse:ProdConnectionString"] = Prod,
            ["Tools:Warehouse:StagingConnectionString"] = $"Data Source={_folder.File("warehouse-staging.db")};Pooling=False",
            ["Tools:PriorAuth:ConnectionString"] = Records,
            ["Tools:Forge:Root"] = _folder.File("forge"),
            ["Tools:Files:Root"] = _folder.File("workspaces"),
            ["Tools:Market:ConnectionString"] = $"Data Source={_folder.File("market.db")};Pooling=False",
            ["Tools:Crm:ConnectionString"] = $"Data Source={_folder.File("crm.db")};Pooling=False",
            ["Llm:DefaultProvider"] = "scripted",
            ["Llm:Providers:scripted:Kind"] = "openai-compatible",
            ["Llm:Providers:scripted:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Providers:scripted:MaxRetries"] = "0",
            // The judge's model when a dataset names none; these datasets grade no rubric.
            ["Llm:Providers:scripted:Model"] = "gpt-4o-mini",
            // Both cases of a dataset start with the same prompt: a cached reply would skip the script.
            ["Llm:Cache:Enabled"] = "false",
        };
        var exit = await EvalCommands.EvaluateAsync(
            new EvalOptions(RepositoryFiles.PathOf($"agents/evals/{dataset}.yaml")) { Settings = settings, AgentsPath = RepositoryFiles.PathOf("agents") },
            output, error, timeout.Token);
        return (exit, output.ToString(), error.ToString());
    }
}
