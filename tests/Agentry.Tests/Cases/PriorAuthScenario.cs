using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.Cases;

/// What the prior-auth case's tests share (docs/cases/prior-auth.md): the EHR's event for the new
/// semaglutide prescription of the synthetic patient SYN-00017, the goal the trigger makes of it,
/// the PA form the chart supports and a first attempt the payer's schema refuses, the scripted
/// model up to the submission, and reads of the sample's database.
public static class PriorAuthScenario
{
    public const string Exchange = "ehr.prescriptions";

    public const string RoutingKey = "prescription.created";

    public const string Event = """{"status":"active","prescription":{"id":"RX-200117","drug":"semaglutide 2 mg/3 mL pen (0.25 or 0.5 mg/dose)","prescriber":"Dr. Sam Placeholder"},"patient":{"id":"SYN-00017"}}""";

    public const string Goal = "New prescription RX-200117 for patient SYN-00017: semaglutide 2 mg/3 mL pen (0.25 or 0.5 mg/dose), by Dr. Sam Placeholder. Prepare its prior authorization if the payer requires one.";

    public const string Justification = "I am requesting semaglutide for my patient with type 2 diabetes (E11.65) since 2019. Despite seven years of metformin 1000 mg twice daily with documented adherence, her HbA1c rose to 8.9 % on 2026-11-20. Glipizide was stopped in 2024 after symptomatic hypoglycemia. She has no history of pancreatitis or medullary thyroid carcinoma. Semaglutide meets every criterion of policy glp1-agonists.";

    /// The form as the chart and the payer support it.
    public static string Form => $$"""
        {
          "prescription_id": "RX-200117",
          "patient": { "patient_id": "SYN-00017", "name": "Avery Testpatient", "date_of_birth": "1968-04-09", "member_id": "EXH000000017" },
          "prescriber": { "name": "Dr. Sam Placeholder", "npi": "1234567893" },
          "medication": { "drug": "semaglutide 2 mg/3 mL pen (0.25 or 0.5 mg/dose)", "sig": "Inject 0.25 mg subcutaneously weekly for 4 weeks, then 0.5 mg weekly", "quantity": 3, "days_supply": 28 },
          "diagnoses": [ { "icd10": "E11.65", "description": "Type 2 diabetes mellitus with hyperglycemia" } ],
          "prior_therapies": [
            { "drug": "metformin 1000 mg tablet, twice daily", "start": "2019-03-10", "end": null, "outcome": "inadequate_response" },
            { "drug": "glipizide 5 mg tablet, daily", "start": "2023-01-05", "end": "2024-02-01", "outcome": "intolerance" }
          ],
          "labs": [ { "test": "HbA1c", "value": "8.9", "unit": "%", "date": "2026-11-20" } ],
          "criteria": [
            { "id": "GLP1-1", "evidence": "E11.65 Type 2 diabetes mellitus with hyperglycemia, since 2019-03-02" },
            { "id": "GLP1-2", "evidence": "HbA1c 8.9 % on 2026-11-20, within 90 days" },
            { "id": "GLP1-3", "evidence": "metformin 1000 mg twice daily since 2019-03-10, inadequate response (DOC-0103)" },
            { "id": "GLP1-4", "evidence": "no other GLP-1 receptor agonist or DPP-4 inhibitor in the medication history" },
            { "id": "GLP1-5", "evidence": "no pancreatitis or medullary thyroid carcinoma (DOC-0101)" }
          ],
          "attachments": [ "DOC-0101", "DOC-0102", "DOC-0103" ],
          "justification": {{JsonSerializer.Serialize(Justification)}},
          "urgency": "standard"
        }
        """;

    /// A first attempt: the birth date as the US writes it, the diagnosis code without its dot, no
    /// attachments. The payer's schema refuses all three.
    public static string WrongForm
    {
        get
        {
            var form = JsonNode.Parse(Form)!.AsObject();
            form["patient"]!["date_of_birth"] = "04/09/1968";
            form["diagnoses"]![0]!["icd10"] = "E1165";
            form["attachments"] = new JsonArray();
            return form.ToJsonString();
        }
    }

    public static string Submit(string form) => $$"""{"form": {{form}}}""";

    /// The model up to the submission: chart and criteria at once, the payer, then a form the
    /// schema refuses (the Planner asks again within the step) and the corrected one.
    public static OpenAiFake ScriptUpToTheSubmission(this OpenAiFake fake) => fake
        .ReplyWithToolCalls(
            new FakeToolCall("call_1", "tools-ehr_patient_chart", """{"patient_id":"SYN-00017"}"""),
            new FakeToolCall("call_2", "tools-search_knowledge", """{"query":"semaglutide GLP-1 prior authorization criteria step therapy HbA1c"}"""))
        .ReplyWithToolCalls(new FakeToolCall("call_3", "tools-payer_eligibility", """{"member_id":"EXH000000017","drug":"semaglutide"}"""))
        .ReplyWithToolCalls(new FakeToolCall("call_4", "tools-payer_submit_pa", Submit(WrongForm)))
        .ReplyWithToolCalls(new FakeToolCall("call_5", "tools-payer_submit_pa", Submit(Form)));

    public static async Task<List<string>> Rows(string connectionString, string sql)
    {
        await using var db = new SqliteConnection(connectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetValue(0).ToString()!);
        }

        return rows;
    }
}
