using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Agents.Tools;
using Agentry.Samples.PriorAuth;
using Agentry.Tools;
using Microsoft.Extensions.Options;
using Agentry.Tests.Cases;
using static Agentry.Tests.Cases.PriorAuthScenario;

namespace Agentry.Tests.Samples;

/// The prior-auth sample's EHR and payer on their own: the chart and the formulary as the agent
/// reads them, the payer's schema refusing a malformed form (in the Planner's check and in the
/// portal itself), the portal refusing a form that disagrees with the chart, and a submission made
/// once per prescription however often it is sent.
public sealed class When_the_prior_auth_tools_are_called
{
    private TempFolder _folder = null!;
    private HealthRecords _records = null!;

    [SetUp]
    public async Task Start()
    {
        _folder = new TempFolder();
        _records = new HealthRecords(Options.Create(new HealthRecordsOptions { ConnectionString = Database }));
        // The demo records exist before any call, so a refusal that opens nothing is seen to write nothing.
        await (await _records.OpenAsync(CancellationToken.None)).DisposeAsync();
    }

    [TearDown]
    public void Stop() => _folder.Dispose();

    private string Database => $"Data Source={_folder.File("prior-auth.db")};Pooling=False";

    private static ToolInvocation Call(string callId) => new(Guid.NewGuid(), "default", "prior-auth", 1, callId);

    private Task<string> Submit(string form, string callId = "call_1") =>
        new SubmitPriorAuthTool(_records, TimeProvider.System).InvokeAsync(JsonDocument.Parse(PriorAuthScenario.Submit(form)).RootElement, Call(callId), CancellationToken.None);

    private static string Changed(Action<JsonObject> change)
    {
        var form = JsonNode.Parse(Form)!.AsObject();
        change(form);
        return form.ToJsonString();
    }

    [Test]
    public async Task Should_read_the_chart_with_its_documents_and_the_new_prescription()
    {
        var chart = JsonDocument.Parse(await new PatientChartTool(_records).InvokeAsync(JsonDocument.Parse("""{"patient_id":"SYN-00017"}""").RootElement, Call("call_1"), CancellationToken.None)).RootElement;

        Assert.That(chart.GetProperty("patient").GetProperty("member_id").GetString(), Is.EqualTo("EXH000000017"));
        Assert.That(chart.GetProperty("diagnoses").EnumerateArray().Select(d => d.GetProperty("icd10").GetString()), Is.EqualTo(new[] { "I10", "E11.65", "E66.9" }));
        Assert.That(chart.GetProperty("labs").EnumerateArray().Select(l => $"{l.GetProperty("test").GetString()} {l.GetProperty("value").GetString()} {l.GetProperty("taken_on").GetString()}"), Does.Contain("HbA1c 8.9 2026-11-20"));
        Assert.That(chart.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("doc_id").GetString()), Is.EqualTo(new[] { "DOC-0101", "DOC-0102", "DOC-0103" }), "only this patient's documents");
        Assert.That(chart.GetProperty("prescriptions").EnumerateArray().Select(p => p.GetProperty("prescription_id").GetString()), Is.EqualTo(new[] { "RX-200117", "RX-200150" }));
        var missing = Assert.ThrowsAsync<ToolException>(() => new PatientChartTool(_records).InvokeAsync(JsonDocument.Parse("""{"patient_id":"SYN-99999"}""").RootElement, Call("call_2"), CancellationToken.None));
        Assert.That(missing!.Message, Is.EqualTo("The EHR has no patient SYN-99999."));
    }

    [TestCase("semaglutide", true, "glp1-agonists")]
    [TestCase("adalimumab-adaz", true, "tnf-inhibitors")]
    [TestCase("metformin", false, null)]
    public async Task Should_tell_from_the_formulary_whether_a_drug_needs_a_prior_authorization(string drug, bool required, string? policy)
    {
        var answer = JsonDocument.Parse(await new PayerEligibilityTool(_records).InvokeAsync(JsonSerializer.SerializeToElement(new { member_id = "EXH000000017", drug }), Call("call_1"), CancellationToken.None)).RootElement;

        Assert.That(answer.GetProperty("coverage").GetProperty("status").GetString(), Is.EqualTo("active"));
        Assert.That(answer.GetProperty("formulary").GetProperty("pa_required").GetBoolean(), Is.EqualTo(required));
        Assert.That(answer.GetProperty("formulary").GetProperty("policy").GetString(), Is.EqualTo(policy));
    }

    [Test]
    public async Task Should_refuse_a_form_that_does_not_fit_the_payers_schema_before_and_inside_the_portal()
    {
        // The Planner's and the ToolExecutor's check, from the tool's argument schema.
        var validator = new ToolArgumentsValidator(ToolCatalog.Of([PriorAuthPack.Pack], null));
        var problems = validator.Validate("payer_submit_pa", JsonDocument.Parse(PriorAuthScenario.Submit(WrongForm)).RootElement);
        Assert.That(string.Join("\n", problems), Does.Contain("/form/patient/date_of_birth").And.Contain("/form/diagnoses/0/icd10").And.Contain("/form/attachments"));
        Assert.That(validator.Validate("payer_submit_pa", JsonDocument.Parse(PriorAuthScenario.Submit(Form)).RootElement), Is.Empty);

        // The portal's own check, for a caller that reaches it another way.
        var refused = Assert.ThrowsAsync<ToolException>(() => Submit(WrongForm));
        Assert.That(refused!.Message, Does.StartWith("Refused by the payer's portal: the form does not fit the payer's form, nothing was submitted."));
        Assert.That(refused.Message, Does.Contain("/patient/date_of_birth").And.Contain("/diagnoses/0/icd10").And.Contain("/attachments"));
        Assert.That(await Rows(Database, "SELECT count(*) FROM pa_submissions"), Is.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task Should_refuse_a_form_that_disagrees_with_the_chart_and_the_payer_listing_every_problem()
    {
        var form = Changed(f =>
        {
            f["patient"]!["date_of_birth"] = "1968-04-10";
            f["diagnoses"]!.AsArray().Add(new JsonObject { ["icd10"] = "E66.01", ["description"] = "Morbid obesity" });
            f["attachments"]!.AsArray().Add("DOC-0201");
            f["criteria"]![0]!["id"] = "TNF-1";
        });

        var refused = Assert.ThrowsAsync<ToolException>(() => Submit(form));

        Assert.That(refused!.Message, Does.StartWith("Refused by the payer's portal: the form disagrees with the records, nothing was submitted."));
        Assert.That(refused.Message, Does.Contain("/patient/date_of_birth: the chart says 1968-04-09"));
        Assert.That(refused.Message, Does.Contain("/diagnoses/1/icd10: E66.01 is not a diagnosis in the chart of SYN-00017"));
        Assert.That(refused.Message, Does.Contain("/attachments/3: DOC-0201 is not a document in the chart of SYN-00017"));
        Assert.That(refused.Message, Does.Contain("/criteria/0/id: TNF-1 is not a criterion of policy glp1-agonists (GLP1-N)"));
        Assert.That(await Rows(Database, "SELECT count(*) FROM pa_submissions"), Is.EqualTo(new[] { "0" }));

        var noPa = Assert.ThrowsAsync<ToolException>(() => Submit(Changed(f =>
        {
            f["prescription_id"] = "RX-200150";
            f["medication"]!["drug"] = "metformin 1000 mg tablet";
        })));
        Assert.That(noPa!.Message, Does.Contain("/medication/drug: the plan needs no prior authorization for metformin"));
    }

    [Test]
    public async Task Should_submit_a_prescription_once_with_its_documents_attached_however_often_it_is_sent()
    {
        var first = JsonDocument.Parse(await Submit(Form, "call_1")).RootElement;
        Assert.That(first.GetProperty("already_submitted").GetBoolean(), Is.False);
        var submission = first.GetProperty("submission");
        Assert.That(submission.GetProperty("submission_id").GetString(), Is.EqualTo("PA-000001"));
        Assert.That(submission.GetProperty("status").GetString(), Is.EqualTo("pending_review"));
        Assert.That(submission.GetProperty("attachments").EnumerateArray().Select(a => a.GetProperty("doc_id").GetString()), Is.EqualTo(new[] { "DOC-0101", "DOC-0102", "DOC-0103" }));

        // Sent again, even with another justification: the same submission, nothing changed.
        var again = JsonDocument.Parse(await Submit(Changed(f => f["justification"] = Justification + " Resent."), "call_2")).RootElement;
        Assert.That(again.GetProperty("already_submitted").GetBoolean(), Is.True);
        Assert.That(again.GetProperty("submission").GetProperty("submission_id").GetString(), Is.EqualTo("PA-000001"));
        Assert.That(again.GetProperty("next").GetString(), Does.Contain("was already submitted as PA-000001"));

        Assert.That(await Rows(Database, "SELECT submission_id || ' ' || prescription_id || ' ' || member_id || ' ' || policy || ' ' || call_id FROM pa_submissions"),
            Is.EqualTo(new[] { "PA-000001 RX-200117 EXH000000017 glp1-agonists call_1" }));
        Assert.That(await Rows(Database, "SELECT justification FROM pa_submissions"), Is.EqualTo(new[] { Justification }));
        Assert.That(await Rows(Database, "SELECT doc_id || ' ' || title FROM pa_attachments ORDER BY doc_id"),
            Is.EqualTo(new[] { "DOC-0101 Endocrinology follow-up", "DOC-0102 HbA1c and renal panel", "DOC-0103 Dispensing history, 12 months" }));
    }
}
