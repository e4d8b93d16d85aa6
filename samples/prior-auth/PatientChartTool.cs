using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Samples.PriorAuth;

/// The EHR's chart of one patient, as a FHIR read of Patient, Condition, MedicationStatement,
/// Observation, DocumentReference and MedicationRequest would give it.
public sealed class PatientChartTool(HealthRecords records) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("ehr_patient_chart", "Reads a patient's chart from the EHR: demographics and coverage (payer member id), diagnoses (ICD-10), medication history with outcomes, lab results, documents (ids to attach) and prescriptions.", ToolSchema.ClosedObject("""
        "patient_id": { "type": "string", "pattern": "^SYN-[0-9]{5}$", "description": "The EHR's patient id, for example SYN-00017." }
        """, "patient_id"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var id = arguments.GetProperty("patient_id").GetString()!;
        await using var connection = await records.OpenAsync(cancellationToken);
        var patient = (await Rows.ReadAsync(connection, "SELECT patient_id, name, date_of_birth, sex, member_id FROM patients WHERE patient_id = $id", ("$id", id))).SingleOrDefault()
            ?? throw new ToolException(ToolErrorKind.Failed, $"The EHR has no patient {id}.", causedByCaller: true);
        var p = ("$id", (object)id);
        return JsonSerializer.Serialize(new
        {
            patient,
            diagnoses = await Rows.ReadAsync(connection, "SELECT icd10, description, onset FROM diagnoses WHERE patient_id = $id ORDER BY onset", p),
            medication_history = await Rows.ReadAsync(connection, "SELECT drug, started, stopped, outcome, note FROM medications WHERE patient_id = $id ORDER BY started", p),
            labs = await Rows.ReadAsync(connection, "SELECT test, value, unit, taken_on FROM labs WHERE patient_id = $id ORDER BY taken_on, test", p),
            documents = await Rows.ReadAsync(connection, "SELECT doc_id, type, title, written_on, content FROM documents WHERE patient_id = $id ORDER BY doc_id", p),
            prescriptions = await Rows.ReadAsync(connection, "SELECT prescription_id, drug, generic, sig, quantity, days_supply, prescriber, npi, written_on FROM prescriptions WHERE patient_id = $id ORDER BY prescription_id", p),
        });
    }
}
