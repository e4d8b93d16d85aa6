using System.Globalization;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.PriorAuth;

/// The payer portal's PA submission. Idempotent by the prescription: a second submission of the
/// same prescription (the same call redelivered, the EHR's event sent again, a model that retries)
/// returns the submission already made and changes nothing. A form that does not fit the payer's
/// schema, or that says what the chart and the payer do not (another patient, a diagnosis the chart
/// lacks, a document of someone else, a criterion of another policy), is refused with every problem.
public sealed class SubmitPriorAuthTool(HealthRecords records, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("payer_submit_pa", "Submits a prior-authorization request to the payer's portal with the chart documents it names attached. The form must follow the payer's schema and agree with the chart. Submitting the same prescription again returns the existing submission.", $$"""
        { "type": "object", "properties": { "form": {{PaForm.PropertySchema}} }, "required": ["form"], "additionalProperties": false }
        """, SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var form = arguments.GetProperty("form");
        // The Planner and the ToolExecutor check the arguments against the same schema; the portal
        // checks again because it is the payer's boundary, whoever calls it.
        Refuse(PaForm.Problems(form), "does not fit the payer's form");
        var prescriptionId = form.GetProperty("prescription_id").GetString()!;

        await using var connection = await records.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        if (await ExistingAsync(connection, prescriptionId) is { } existing)
        {
            return Receipt(existing, alreadySubmitted: true);
        }

        var (drug, policy, problems) = await CheckAgainstRecordsAsync(connection, form);
        Refuse(problems, "disagrees with the records");

        var seq = (long)(await Rows.ReadAsync(connection, "SELECT coalesce(max(seq), 0) + 1 AS next FROM pa_submissions")).Single()["next"]!;
        var submissionId = $"PA-{seq.ToString("000000", CultureInfo.InvariantCulture)}";
        await using (var insert = connection.CreateCommand())
        {
            insert.CommandText = """
                INSERT INTO pa_submissions (seq, submission_id, prescription_id, member_id, drug, policy, form, justification, status, run_id, call_id, submitted_at)
                VALUES ($seq, $id, $rx, $member, $drug, $policy, $form, $justification, 'pending_review', $run, $call, $at);
                INSERT INTO pa_attachments (submission_id, doc_id, type, title, content)
                SELECT $id, doc_id, type, title, content FROM documents WHERE doc_id IN (SELECT value FROM json_each($form, '$.attachments'));
                """;
            insert.Parameters.AddWithValue("$seq", seq);
            insert.Parameters.AddWithValue("$id", submissionId);
            insert.Parameters.AddWithValue("$rx", prescriptionId);
            insert.Parameters.AddWithValue("$member", form.GetProperty("patient").GetProperty("member_id").GetString());
            insert.Parameters.AddWithValue("$drug", drug);
            insert.Parameters.AddWithValue("$policy", policy);
            insert.Parameters.AddWithValue("$form", form.GetRawText());
            insert.Parameters.AddWithValue("$justification", form.GetProperty("justification").GetString());
            insert.Parameters.AddWithValue("$run", invocation.RunId.ToString());
            insert.Parameters.AddWithValue("$call", invocation.CallId);
            insert.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var submitted = (await ExistingAsync(connection, prescriptionId))!;
        await transaction.CommitAsync(cancellationToken);
        return Receipt(submitted, alreadySubmitted: false);
    }

    private static void Refuse(IReadOnlyList<string> problems, string what)
    {
        if (problems.Count > 0)
        {
            throw new ToolException(ToolErrorKind.Failed,
                $"Refused by the payer's portal: the form {what}, nothing was submitted. Fix every problem and submit again: {string.Join("; ", problems)}.", causedByCaller: true);
        }
    }

    private static async Task<(string Drug, string Policy, List<string> Problems)> CheckAgainstRecordsAsync(SqliteConnection connection, JsonElement form)
    {
        var problems = new List<string>();
        var rxId = form.GetProperty("prescription_id").GetString()!;
        var patient = form.GetProperty("patient");
        var patientId = patient.GetProperty("patient_id").GetString()!;
        var rx = (await Rows.ReadAsync(connection, "SELECT patient_id, generic FROM prescriptions WHERE prescription_id = $rx", ("$rx", rxId))).SingleOrDefault();
        if (rx is null)
        {
            return ("", "", [$"/prescription_id: the EHR has no prescription {rxId}"]);
        }

        var generic = (string)rx["generic"]!;
        if ((string)rx["patient_id"]! != patientId)
        {
            problems.Add($"/patient/patient_id: prescription {rxId} is for patient {rx["patient_id"]}, not {patientId}");
        }

        if (!form.GetProperty("medication").GetProperty("drug").GetString()!.Contains(generic, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"/medication/drug: prescription {rxId} is for {generic}");
        }

        var chart = (await Rows.ReadAsync(connection, "SELECT name, date_of_birth, member_id FROM patients WHERE patient_id = $p", ("$p", patientId))).SingleOrDefault();
        foreach (var field in new[] { "name", "date_of_birth", "member_id" })
        {
            if (chart is not null && (string)chart[field]! != patient.GetProperty(field).GetString())
            {
                problems.Add($"/patient/{field}: the chart says {chart[field]}");
            }
        }

        var codes = (await Rows.ReadAsync(connection, "SELECT icd10 FROM diagnoses WHERE patient_id = $p", ("$p", patientId))).Select(r => (string)r["icd10"]!).ToHashSet();
        foreach (var (code, i) in form.GetProperty("diagnoses").EnumerateArray().Select((d, i) => (d.GetProperty("icd10").GetString()!, i)).Where(c => !codes.Contains(c.Item1)))
        {
            problems.Add($"/diagnoses/{i}/icd10: {code} is not a diagnosis in the chart of {patientId}");
        }

        var documents = (await Rows.ReadAsync(connection, "SELECT doc_id FROM documents WHERE patient_id = $p", ("$p", patientId))).Select(r => (string)r["doc_id"]!).ToHashSet();
        foreach (var (doc, i) in form.GetProperty("attachments").EnumerateArray().Select((d, i) => (d.GetString()!, i)).Where(d => !documents.Contains(d.Item1)))
        {
            problems.Add($"/attachments/{i}: {doc} is not a document in the chart of {patientId}");
        }

        var plan = (await Rows.ReadAsync(connection, """
            SELECT c.status, f.pa_required, f.policy, f.criteria_prefix FROM coverage c
            LEFT JOIN formulary f ON f.plan = c.plan AND f.generic = $generic WHERE c.member_id = $m
            """, ("$generic", generic), ("$m", patient.GetProperty("member_id").GetString()!))).SingleOrDefault();
        if (plan is null || (string)plan["status"]! != "active")
        {
            problems.Add("/patient/member_id: no active coverage for this member");
            return (generic, "", problems);
        }

        if (plan["pa_required"] is not 1L)
        {
            problems.Add($"/medication/drug: the plan needs no prior authorization for {generic}");
            return (generic, "", problems);
        }

        var prefix = $"{plan["criteria_prefix"]}-";
        foreach (var (id, i) in form.GetProperty("criteria").EnumerateArray().Select((c, i) => (c.GetProperty("id").GetString()!, i)).Where(c => !c.Item1.StartsWith(prefix, StringComparison.Ordinal)))
        {
            problems.Add($"/criteria/{i}/id: {id} is not a criterion of policy {plan["policy"]} ({prefix}N)");
        }

        return (generic, (string)plan["policy"]!, problems);
    }

    private static async Task<Dictionary<string, object?>?> ExistingAsync(SqliteConnection connection, string prescriptionId)
    {
        var submission = (await Rows.ReadAsync(connection, "SELECT submission_id, prescription_id, drug, policy, status, submitted_at FROM pa_submissions WHERE prescription_id = $rx", ("$rx", prescriptionId))).SingleOrDefault();
        if (submission is not null)
        {
            submission["attachments"] = await Rows.ReadAsync(connection, "SELECT doc_id, title FROM pa_attachments WHERE submission_id = $id ORDER BY doc_id", ("$id", submission["submission_id"]!));
        }

        return submission;
    }

    private static string Receipt(Dictionary<string, object?> submission, bool alreadySubmitted) => JsonSerializer.Serialize(new
    {
        submission,
        already_submitted = alreadySubmitted,
        next = alreadySubmitted
            ? $"Prescription {submission["prescription_id"]} was already submitted as {submission["submission_id"]}; nothing was submitted again. Do not submit it again."
            : $"Submitted as {submission["submission_id"]}; the payer decides within 72 hours (standard) and answers on the portal.",
    });
}
