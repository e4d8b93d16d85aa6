using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.LeadOutreach;

/// What the two sending tools share. The email is queued in the CRM's outbox, addressed by the CRM
/// (the model never chooses an address), as a real CRM's sequence hands it to the email service.
/// One email per lead and step, and at most one per lead and day: a redelivered call or a second run
/// the same morning returns what was queued instead of mailing twice.
internal static class Outbox
{
    public const string FollowUpAfterDays = "follow_up_after_days";

    public const string EmailSchema = """
        "lead_id": { "type": "string", "pattern": "^L-[0-9]{1,8}$", "description": "The lead's id, for example L-201: the CRM addresses the email." },
        "subject": { "type": "string", "minLength": 3, "maxLength": 120 },
        "body": { "type": "string", "minLength": 20, "maxLength": 4000, "description": "The email's text, addressing the lead by first name." },
        "sources": { "type": "array", "minItems": 1, "maxItems": 5, "uniqueItems": true, "items": { "type": "string", "pattern": "^P-[A-Z0-9-]{1,20}$" }, "description": "The ids of the lead's company pages (company_research) the email draws on." }
        """;

    public static async Task<string> SendAsync(Crm crm, JsonElement arguments, ToolInvocation invocation, Func<Lead, int, SqliteConnection, SqliteTransaction, Task<string?>> check, CancellationToken cancellationToken)
    {
        var leadId = arguments.GetProperty("lead_id").GetString()!;
        var subject = arguments.GetProperty("subject").GetString()!;
        var body = arguments.GetProperty("body").GetString()!;
        var sources = arguments.GetProperty("sources").EnumerateArray().Select(s => s.GetString()!).ToList();
        await using var connection = await crm.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        if (await Queued(connection, transaction, "o.run_id = $a AND o.call_id = $b", invocation.RunId.ToString(), invocation.CallId, cancellationToken) is { } redelivered)
        {
            return redelivered;
        }

        var lead = await Crm.LeadAsync(connection, transaction, leadId, cancellationToken);
        Refuse(StopReason(lead));
        if (lead.Stage == "handed_over")
        {
            Refuse($"{lead.Id} ({lead.Name}) was handed to {lead.Owner}: no more automated email. Nothing was sent.");
        }

        var step = lead.Step + 1;
        if (await check(lead, step, connection, transaction) is { } earlier)
        {
            return earlier;
        }

        foreach (var source in sources)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT c.name FROM company_pages p JOIN companies c ON c.id = p.company_id WHERE p.id = $id";
            command.Parameters.AddWithValue("$id", source);
            var owner = await command.ExecuteScalarAsync(cancellationToken) as string;
            Refuse(owner is null ? $"No company page has the id {source}: name only pages company_research returned. Nothing was sent."
                : owner != lead.Company ? $"{source} is a page of {owner}, not of {lead.Company}, {lead.Name}'s company: research {lead.Company} and write from its pages. Nothing was sent." : null);
        }

        Refuse(body.Contains(lead.FirstName, StringComparison.Ordinal) ? null : $"The email never addresses {lead.FirstName}: greet {lead.Name} by first name. Nothing was sent.");
        var days = Setting(invocation, FollowUpAfterDays, 3, 1, 14);
        var nextTouch = Crm.Day(crm.Today.AddDays(days));
        await Crm.ExecuteAsync(connection, transaction, """
            INSERT INTO outbox (lead_id, step, to_address, subject, body, sources, run_id, call_id, queued_at) VALUES ($lead, $step, $to, $subject, $body, $sources, $run, $call, $at);
            INSERT INTO activities (lead_id, kind, step, at, detail) VALUES ($lead, 'email_sent', $step, $at, $subject);
            UPDATE leads SET stage = 'in_sequence', step = $step, next_touch_on = $next WHERE id = $lead;
            """, cancellationToken, ("$lead", lead.Id), ("$step", step), ("$to", lead.Email), ("$subject", subject), ("$body", body), ("$sources", JsonSerializer.Serialize(sources)),
            ("$run", invocation.RunId.ToString()), ("$call", invocation.CallId), ("$at", crm.Now), ("$next", nextTouch));
        var queued = await Queued(connection, transaction, "o.lead_id = $a AND o.step = $b", lead.Id, step, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return $"{queued} Next touch on {nextTouch} unless crm_schedule_follow_up sets another day.";
    }

    /// The description of an email already in the outbox, or null.
    public static async Task<string?> Queued(SqliteConnection connection, SqliteTransaction transaction, string where, object a, object b, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT o.id, o.step, o.to_address, o.subject, o.queued_at, l.name FROM outbox o JOIN leads l ON l.id = o.lead_id WHERE {where}";
        command.Parameters.AddWithValue("$a", a);
        command.Parameters.AddWithValue("$b", b);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? $"Email {reader.GetInt32(1)} to {reader.GetString(5)} <{reader.GetString(2)}> is in the outbox (#{reader.GetInt64(0)}, queued {reader.GetString(4)}): \"{reader.GetString(3)}\"."
            : null;
    }

    public static string? StopReason(Lead lead) => lead.Stop switch
    {
        "suppressed" => $"{lead.Email} is on the email service's suppression list (the person unsubscribed): never mail {lead.Name}. Nothing was sent.",
        "unsubscribed" => $"{lead.Name} unsubscribed: never mail them again. Nothing was sent.",
        "bounced" => $"Email to {lead.Email} bounced: the address does not work, the sequence stops. Nothing was sent.",
        "replied" => $"{lead.Name} replied: no more automated email; hand the lead to {lead.Owner} with crm_log_task. Nothing was sent.",
        _ => null,
    };

    public static void Refuse(string? reason)
    {
        if (reason is not null)
        {
            throw new ToolException(ToolErrorKind.Failed, reason, causedByCaller: true);
        }
    }

    public static int Setting(ToolInvocation invocation, string name, int fallback, int min, int max)
    {
        if (!invocation.Policy.Settings.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max ? value
            : throw new ToolException(ToolErrorKind.Failed, $"The setting {name} of agent '{invocation.Agent}' is '{text}', not a whole number from {min} to {max}.");
    }
}
