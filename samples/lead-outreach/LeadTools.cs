using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.LeadOutreach;

/// The day's work list: the new leads, the leads whose next touch is due, the leads who replied and
/// wait for their owner, and the leads the sequence must stop for: due ones that bounced or
/// unsubscribed, and new ones whose address the email service suppresses (they get no email). The
/// CRM holds the next-touch dates, so a run that did not happen, or failed, loses nothing: the next
/// morning's run finds the same leads due.
public sealed class LeadsDueTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("crm_leads_due", "Returns today's outreach work from the CRM: new_leads (no email yet), follow_ups_due (next touch today or earlier, with the opens and clicks of their last email), replied (a person answered: hand them to their owner) and stopped (bounced, unsubscribed or suppressed: never mail them).", ToolSchema.ClosedObject("""
        "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "Most leads per list. Default 20." }
        """));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var limit = arguments.TryGetProperty("limit", out var l) ? l.GetInt32() : 20;
        var today = Crm.Day(crm.Today);
        await using var connection = await crm.OpenAsync(cancellationToken);
        var newLeads = await Rows(connection, """
            SELECT id, name, title, company, domain, owner FROM lead_state WHERE stage = 'new' AND stop IS NULL ORDER BY created_on, id LIMIT $limit
            """, limit, today, r => new { id = r.GetString(0), name = r.GetString(1), title = r.GetString(2), company = r.GetString(3), company_domain = r.GetString(4), owner = r.GetString(5) }, cancellationToken);
        var due = await Rows(connection, """
            SELECT s.id, s.name, s.title, s.company, s.step, s.next_touch_on, o.subject, o.queued_at,
              (SELECT COUNT(*) FROM activities a WHERE a.lead_id = s.id AND a.step = s.step AND a.kind = 'opened'),
              (SELECT COUNT(*) FROM activities a WHERE a.lead_id = s.id AND a.step = s.step AND a.kind = 'clicked')
            FROM lead_state s JOIN outbox o ON o.lead_id = s.id AND o.step = s.step
            WHERE s.stage = 'in_sequence' AND s.stop IS NULL AND s.next_touch_on <= $today ORDER BY s.next_touch_on, s.id LIMIT $limit
            """, limit, today, r => new
            {
                id = r.GetString(0), name = r.GetString(1), title = r.GetString(2), company = r.GetString(3), emails_sent = r.GetInt32(4), next_touch_on = r.GetString(5),
                last_email = new { subject = r.GetString(6), sent_at = r.GetString(7), opened = r.GetInt32(8), clicked = r.GetInt32(9) },
            }, cancellationToken);
        var replied = await Rows(connection, """
            SELECT s.id, s.name, s.title, s.company, s.owner, a.at, a.detail
            FROM lead_state s JOIN activities a ON a.id = (SELECT MAX(id) FROM activities WHERE lead_id = s.id AND kind = 'replied')
            WHERE s.stage = 'in_sequence' AND s.stop = 'replied' ORDER BY a.at LIMIT $limit
            """, limit, today, r => new { id = r.GetString(0), name = r.GetString(1), title = r.GetString(2), company = r.GetString(3), owner = r.GetString(4), reply = new { at = r.GetString(5), text = r.IsDBNull(6) ? "" : r.GetString(6) } }, cancellationToken);
        var stopped = await Rows(connection, """
            SELECT id, name, company, stop FROM lead_state
            WHERE stop IN ('suppressed', 'unsubscribed', 'bounced') AND (stage = 'new' OR (stage = 'in_sequence' AND next_touch_on <= $today)) ORDER BY id LIMIT $limit
            """, limit, today, r => new { id = r.GetString(0), name = r.GetString(1), company = r.GetString(2), reason = r.GetString(3) }, cancellationToken);
        return JsonSerializer.Serialize(new { today, new_leads = newLeads, follow_ups_due = due, replied, stopped });
    }

    private static async Task<List<object>> Rows(SqliteConnection connection, string sql, int limit, string today, Func<SqliteDataReader, object> row, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$today", today);
        var rows = new List<object>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(row(reader));
        }

        return rows;
    }
}

/// One lead's whole history in the CRM: the emails sent (so a follow-up takes a different angle
/// than the last one), and what the email service recorded (opens, clicks, replies, bounces).
public sealed class LeadActivityTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("crm_lead_activity", "Returns one lead's record and history from the CRM: the emails sent to them (subject and text), and every open, click, reply, bounce and unsubscribe with its time.", ToolSchema.ClosedObject("""
        "lead_id": { "type": "string", "pattern": "^L-[0-9]{1,8}$", "description": "The lead's id, for example L-201." }
        """, "lead_id"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await crm.OpenAsync(cancellationToken);
        var lead = await Crm.LeadAsync(connection, null, arguments.GetProperty("lead_id").GetString()!, cancellationToken);
        var emails = new List<object>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT step, subject, body, queued_at FROM outbox WHERE lead_id = $id ORDER BY step";
            command.Parameters.AddWithValue("$id", lead.Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                emails.Add(new { step = reader.GetInt32(0), subject = reader.GetString(1), body = reader.GetString(2), sent_at = reader.GetString(3) });
            }
        }

        var events = new List<object>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT kind, step, at, detail FROM activities WHERE lead_id = $id AND kind <> 'email_sent' ORDER BY at, id";
            command.Parameters.AddWithValue("$id", lead.Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new { kind = reader.GetString(0), step = reader.IsDBNull(1) ? (int?)null : reader.GetInt32(1), at = reader.GetString(2), detail = reader.IsDBNull(3) ? null : reader.GetString(3) });
            }
        }

        return JsonSerializer.Serialize(new
        {
            lead = new { id = lead.Id, name = lead.Name, title = lead.Title, company = lead.Company, owner = lead.Owner, stage = lead.Stage, emails_sent = lead.Step, next_touch_on = lead.NextTouchOn, stop = lead.Stop },
            emails,
            events,
        });
    }
}
