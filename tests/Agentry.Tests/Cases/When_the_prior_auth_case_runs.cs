using Agentry.Cli;
using Agentry.Tests.Llm;
using static Agentry.Tests.Cases.PriorAuthScenario;

namespace Agentry.Tests.Cases;

/// Case 4 of the six (docs/cases/prior-auth.md): the shipped prior-auth agent in the embedded
/// default, its model the scripted OpenAI-compatible fake. The goal is the one the EHR's event
/// makes (the event itself needs RabbitMQ: When_the_prior_auth_case_runs_across_processes). The
/// agent reads the chart and the payer's criteria in parallel, asks the payer, fills a form the
/// payer's schema refuses, corrects it, and submits it once a clinician approves; a clinician's
/// denial submits nothing.
public sealed class When_the_prior_auth_case_runs
{
    private const string Answer = "Submitted the prior authorization for RX-200117 (semaglutide) as PA-000001: criteria GLP1-1 to GLP1-5 met; attached DOC-0101, DOC-0102, DOC-0103.";

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

    private string Records => $"Data Source={_folder.File("prior-auth.db")};Pooling=False";

    private Dictionary<string, string?> Settings(bool scripted = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Tools:PriorAuth:ConnectionString"] = Records,
        };
        if (scripted)
        {
            settings["Llm:DefaultProvider"] = "scripted";
            settings["Llm:Providers:scripted:Kind"] = "openai-compatible";
            settings["Llm:Providers:scripted:Endpoint"] = _fake.BaseUrl.ToString();
            settings["Llm:Providers:scripted:MaxRetries"] = "0";
            settings["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150";
            settings["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600";
        }

        return settings;
    }

    private async Task<(int ExitCode, string Output)> Run(ApprovalChoice approvals, bool scripted = true)
    {
        var criteria = Path.Combine(Path.GetDirectoryName(TestAgents.RepositoryAgentsFolder())!, "samples", "prior-auth", "criteria");
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ingested = await KnowledgeCommands.IngestAsync("payer-criteria", [criteria], "default", output, error, timeout.Token, Settings(scripted));
        Assert.That(ingested, Is.EqualTo(ExitCodes.Completed), output.ToString() + error);

        var (exit, ran, failed) = await AgentryRun.RunAsync(
            new RunOptions(Goal, "prior-auth", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, Settings(scripted), Approvals: approvals));
        return (exit, ran + failed);
    }

    [Test]
    public async Task Should_submit_the_corrected_form_with_its_documents_once_a_clinician_approves()
    {
        _fake.ScriptUpToTheSubmission().ReplyWithAnswer(Answer, promptTokens: 900, completionTokens: 120);

        var (exit, output) = await Run(new ApprovalChoice(ApprovalMode.Approve, "dr-placeholder", "criteria checked against the chart"));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("approved by dr-placeholder: criteria checked against the chart"));
        Assert.That(output, Does.Contain(Answer));

        // The payer's portal: one submission of the corrected form, its documents attached.
        Assert.That(await Rows(Records, "SELECT submission_id || ' ' || prescription_id || ' ' || member_id || ' ' || drug || ' ' || policy || ' ' || status FROM pa_submissions"),
            Is.EqualTo(new[] { "PA-000001 RX-200117 EXH000000017 semaglutide glp1-agonists pending_review" }));
        Assert.That(await Rows(Records, "SELECT call_id FROM pa_submissions"), Is.EqualTo(new[] { "call_5" }), "the corrected call, not the refused one");
        Assert.That(await Rows(Records, "SELECT json_extract(form, '$.patient.date_of_birth') || ' ' || json_extract(form, '$.diagnoses[0].icd10') FROM pa_submissions"), Is.EqualTo(new[] { "1968-04-09 E11.65" }));
        Assert.That(await Rows(Records, "SELECT group_concat(json_extract(value, '$.id'), ',') FROM pa_submissions, json_each(form, '$.criteria')"), Is.EqualTo(new[] { "GLP1-1,GLP1-2,GLP1-3,GLP1-4,GLP1-5" }));
        Assert.That(await Rows(Records, "SELECT justification FROM pa_submissions"), Is.EqualTo(new[] { Justification }));
        Assert.That(await Rows(Records, "SELECT doc_id || ': ' || content FROM pa_attachments ORDER BY doc_id"), Has.Count.EqualTo(3).And.Some.StartsWith("DOC-0102: SYNTHETIC TEST RECORD. HbA1c 8.9 %"));

        // What the model was shown: chart and criteria at once, the payer, the schema's refusal, the receipt.
        var requests = _fake.Requests;
        Assert.That(requests, Has.Count.EqualTo(5), string.Join("\n", requests.Select(r => r.Body)));
        Assert.That(requests[0].Body, Does.Contain(Goal));
        Assert.That(requests[1].Body, Does.Contain("Avery Testpatient").And.Contain("DOC-0103"), "the chart");
        Assert.That(requests[1].Body, Does.Contain("glp1-agonists.md").And.Contain("GLP1-3"), "the payer's criteria");
        Assert.That(requests[2].Body, Does.Contain("A prior authorization is required: the request is judged by policy glp1-agonists"));
        Assert.That(requests[3].Body, Does.Contain("Invalid arguments for payer_submit_pa: /form/attachments: Value should have at least 1 items")
            .And.Contain("/form/patient/date_of_birth: Value does not match format \\\"date\\\"").And.Contain("/form/diagnoses/0/icd10"),
            "the payer's schema refused the first form before the clinician saw it");
        Assert.That(requests[4].Body, Does.Contain("Submitted as PA-000001"));

        // The trace and the cost: one approval (of the corrected form), four steps; four replies of
        // 10 + 5 tokens and the answer's 900 + 120, at 150 and 600 per million: 940 * 0.00015 + 140 * 0.0006 = 0.225.
        Assert.That(output, Does.Contain("call     ehr_patient_chart {\"patient_id\":\"SYN-00017\"}"));
        Assert.That(output, Does.Contain("call     payer_eligibility {\"member_id\":\"EXH000000017\",\"drug\":\"semaglutide\"}"));
        Assert.That(output.Split("waits for approval").Length - 1, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("Completed in 4 steps, 1080 tokens (940 in, 140 out), $0.225,"), output);
    }

    [Test]
    public async Task Should_answer_a_second_submission_of_the_same_prescription_with_the_first()
    {
        // The EHR sends the prescription again as a new event (another message id): a second run.
        _fake.ScriptUpToTheSubmission().ReplyWithAnswer(Answer)
            .ReplyWithToolCalls(new FakeToolCall("call_1", "tools-payer_submit_pa", Submit(Form)))
            .ReplyWithAnswer("RX-200117 was already submitted as PA-000001; nothing was sent again.");
        var approve = new ApprovalChoice(ApprovalMode.Approve, "dr-placeholder");
        var (first, output) = await Run(approve);
        Assert.That(first, Is.EqualTo(ExitCodes.Completed), output);

        var (second, again) = await Run(approve);

        Assert.That(second, Is.EqualTo(ExitCodes.Completed), again);
        Assert.That(_fake.Requests[^1].Body, Does.Contain("Prescription RX-200117 was already submitted as PA-000001; nothing was submitted again."));
        Assert.That(await Rows(Records, "SELECT submission_id || ' ' || call_id FROM pa_submissions"), Is.EqualTo(new[] { "PA-000001 call_5" }), "the first run's submission, alone");
        Assert.That(await Rows(Records, "SELECT count(*) FROM pa_attachments"), Is.EqualTo(new[] { "3" }));
    }

    [Test]
    public async Task Should_submit_nothing_when_the_clinician_denies_and_say_why()
    {
        _fake.ScriptUpToTheSubmission()
            .ReplyWithAnswer("Not submitted: Dr. Placeholder denied the submission of RX-200117 (wants to try a dose increase first). Nothing was sent to the payer.");

        var (exit, output) = await Run(new ApprovalChoice(ApprovalMode.Deny, "dr-placeholder", "try a higher metformin dose first"));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("denied   by dr-placeholder: try a higher metformin dose first"));
        Assert.That(_fake.Requests[4].Body, Does.Contain("try a higher metformin dose first"), "the model is told why");
        Assert.That(output, Does.Contain("Not submitted: Dr. Placeholder denied"));
        Assert.That(await Rows(Records, "SELECT count(*) FROM pa_submissions"), Is.EqualTo(new[] { "0" }));
        Assert.That(await Rows(Records, "SELECT count(*) FROM pa_attachments"), Is.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task Should_say_with_the_offline_model_that_it_could_not_complete_and_submit_nothing()
    {
        var (exit, output) = await Run(new ApprovalChoice(ApprovalMode.Approve, "nobody"), scripted: false);

        // It cannot read a member id out of a chart nor fill a form: its one guess is refused by the schema.
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Answer: I could not complete the goal: payer_eligibility failed (InvalidArguments"));
        Assert.That(output, Does.Not.Contain("payer_submit_pa").And.Not.Contain("waits for approval"));
        Assert.That(File.Exists(_folder.File("prior-auth.db")), Is.False, "no tool of the EHR or the payer ran");
    }
}
