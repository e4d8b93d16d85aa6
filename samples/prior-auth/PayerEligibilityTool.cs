using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Samples.PriorAuth;

/// The payer's eligibility and formulary check for one drug (what an X12 270/271 and a formulary
/// lookup answer): whether the member is covered, the drug's tier, whether it needs a PA, the step
/// therapy and quantity limit, and the payer's policy whose criteria the request must meet.
public sealed class PayerEligibilityTool(HealthRecords records) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("payer_eligibility", "Asks the payer whether a member is covered and how the plan's formulary treats a drug: tier, whether a prior authorization is required, step therapy, quantity limit, and the policy (criteria prefix) a PA request is judged by.", ToolSchema.ClosedObject("""
        "member_id": { "type": "string", "pattern": "^[A-Z]{3}[0-9]{9}$", "description": "The payer's member id, from the chart's coverage." },
        "drug": { "type": "string", "pattern": "^[a-z][a-z -]{2,60}$", "description": "The generic name, lower case, for example semaglutide." }
        """, "member_id", "drug"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var member = arguments.GetProperty("member_id").GetString()!;
        var drug = arguments.GetProperty("drug").GetString()!;
        await using var connection = await records.OpenAsync(cancellationToken);
        var coverage = (await Rows.ReadAsync(connection, "SELECT member_id, payer, plan, status, effective, terminated FROM coverage WHERE member_id = $m", ("$m", member))).SingleOrDefault()
            ?? throw new ToolException(ToolErrorKind.Failed, $"The payer has no member {member}.", causedByCaller: true);
        var entry = (await Rows.ReadAsync(connection, """
            SELECT generic, tier, pa_required, step_therapy, quantity_limit, policy, criteria_prefix FROM formulary
            WHERE plan = $plan AND $drug LIKE '%' || generic || '%'
            """, ("$plan", coverage["plan"]!), ("$drug", drug))).SingleOrDefault();
        return JsonSerializer.Serialize(new
        {
            coverage,
            formulary = entry is null ? null : new
            {
                drug = entry["generic"],
                tier = entry["tier"],
                pa_required = (long)entry["pa_required"]! == 1,
                step_therapy = entry["step_therapy"],
                quantity_limit = entry["quantity_limit"],
                policy = entry["policy"],
                criteria_prefix = entry["criteria_prefix"],
            },
            note = entry is null
                ? $"{drug} is not on plan {coverage["plan"]}'s formulary: it needs a formulary exception, which this portal does not take."
                : (long)entry["pa_required"]! == 1
                ? $"A prior authorization is required: the request is judged by policy {entry["policy"]}; cite its criteria as {entry["criteria_prefix"]}-N."
                : "No prior authorization is required: the pharmacy can dispense it.",
        });
    }
}
