using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.LeadOutreach;

/// Sets the day of a lead's next touch, which the next morning's run picks up: 1 to 14 days ahead,
/// so a lead is neither mailed again tomorrow by mistake nor forgotten for a month.
public sealed class ScheduleFollowUpTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("crm_schedule_follow_up", "Sets when a lead in the sequence is next contacted: in 1 to 14 days. The run of that morning finds the lead among follow_ups_due.", ToolSchema.ClosedObject("""
        "lead_id": { "type": "string", "pattern": "^L-[0-9]{1,8}$" },
        "days": { "type": "integer", "minimum": 1, "maximum": 14, "description": "Days from today." },
        "reason": { "type": "string", "minLength": 3, "maxLength": 300, "description": "Why this day, for the sales rep reading the CRM." }
        """, "lead_id", "days", "reason"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var days = arguments.GetProperty("days").GetInt32();
        await using var connection = await crm.OpenAsync(cancellationToken);
        await using var transaction = (Microsoft.Data.Sqlite.SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var lead = await Crm.LeadAsync(connection, transaction, arguments.GetProperty("lead_id").GetString()!, cancellationToken);
        Outbox.Refuse(Outbox.StopReason(lead)?.Replace("Nothing was sent.", "No follow-up was scheduled.", StringComparison.Ordinal));
        Outbox.Refuse(lead.Stage != "in_sequence" ? $"{lead.Id} ({lead.Name}) is {lead.Stage.Replace('_', ' ')}, not in the sequence: only a lead who got an email has a follow-up. No follow-up was scheduled." : null);
        var day = Crm.Day(crm.Today.AddDays(days));
        await Crm.ExecuteAsync(connection, transaction, "UPDATE leads SET next_touch_on = $day WHERE id = $id", cancellationToken, ("$day", day), ("$id", lead.Id));
        await transaction.CommitAsync(cancellationToken);
        return $"Next touch for {lead.Id} ({lead.Name}) on {day}, in {days} day(s): {arguments.GetProperty("reason").GetString()}";
    }
}

/// Hands a lead to their sales rep: a task in the rep's CRM queue, and the lead leaves the automated
/// sequence for good. One task per lead: a second call returns the first.
public sealed class LogTaskTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("crm_log_task", "Hands a lead to their owner (the sales rep): logs a task in the CRM with what the rep needs to know (the reply, what was sent) and takes the lead out of the automated sequence.", ToolSchema.ClosedObject("""
        "lead_id": { "type": "string", "pattern": "^L-[0-9]{1,8}$" },
        "title": { "type": "string", "minLength": 3, "maxLength": 160, "description": "What the rep should do, for example: Call Ben Okafor back about Thursday." },
        "notes": { "type": "string", "minLength": 3, "maxLength": 2000, "description": "The reply in short and the context the rep needs." },
        "due_in_days": { "type": "integer", "minimum": 0, "maximum": 7, "description": "Days the rep has, 0 for today. Default 1." }
        """, "lead_id", "title", "notes"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var due = Crm.Day(crm.Today.AddDays(arguments.TryGetProperty("due_in_days", out var d) ? d.GetInt32() : 1));
        await using var connection = await crm.OpenAsync(cancellationToken);
        await using var transaction = (Microsoft.Data.Sqlite.SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var lead = await Crm.LeadAsync(connection, transaction, arguments.GetProperty("lead_id").GetString()!, cancellationToken);
        await using (var existing = connection.CreateCommand())
        {
            existing.Transaction = transaction;
            existing.CommandText = "SELECT 'Task #' || id || ' (' || title || ', due ' || due_on || ') already hands ' || $id || ' to ' || owner || ': nothing was logged again.' FROM tasks WHERE lead_id = $id";
            existing.Parameters.AddWithValue("$id", lead.Id);
            if (await existing.ExecuteScalarAsync(cancellationToken) is string earlier)
            {
                return earlier;
            }
        }

        var title = arguments.GetProperty("title").GetString()!;
        await Crm.ExecuteAsync(connection, transaction, """
            INSERT INTO tasks (lead_id, owner, title, notes, due_on, run_id, call_id, created_at) VALUES ($id, $owner, $title, $notes, $due, $run, $call, $at);
            INSERT INTO activities (lead_id, kind, at, detail) VALUES ($id, 'task_logged', $at, $title);
            UPDATE leads SET stage = 'handed_over', next_touch_on = NULL WHERE id = $id;
            """, cancellationToken, ("$id", lead.Id), ("$owner", lead.Owner), ("$title", title), ("$notes", arguments.GetProperty("notes").GetString()), ("$due", due),
            ("$run", invocation.RunId.ToString()), ("$call", invocation.CallId), ("$at", crm.Now));
        await transaction.CommitAsync(cancellationToken);
        return $"Logged a task for {lead.Owner}, due {due}: {title}. {lead.Id} ({lead.Name}) has left the automated sequence.";
    }
}
