using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.LeadOutreach;

/// The first, personalised email to a new lead (the agent has a sales rep approve each one). A lead
/// already mailed is not mailed again: the call returns the email in the outbox.
public sealed class SendEmailTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("crm_send_email", "Sends the first email of the sequence to a new lead: the CRM queues it to the lead's address and sets the next touch. Refused for a lead who unsubscribed, bounced or replied, and for sources that are not pages of the lead's company.", ToolSchema.ClosedObject(Outbox.EmailSchema, "lead_id", "subject", "body", "sources"), SideEffects: true)
    {
        Settings = new Dictionary<string, string> { [Outbox.FollowUpAfterDays] = "days from 1 to 14 until the follow-up is due, unless crm_schedule_follow_up sets another day (default 3)" },
    };

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        Outbox.SendAsync(crm, arguments, invocation, async (lead, step, connection, transaction) => step == 1 ? null
            : await Outbox.Queued(connection, transaction, "o.lead_id = $a AND o.step = $b", lead.Id, 1, cancellationToken) is { } first
                ? $"{lead.Id} already got the first email: nothing was sent again. {first}"
                : throw new ToolException(Agentry.Contracts.ToolErrorKind.Failed, $"{lead.Id} ({lead.Name}) is in the sequence already: its next email is a follow-up (crm_send_follow_up). Nothing was sent.", causedByCaller: true),
            cancellationToken);
}

/// A follow-up to a lead in the sequence whose next touch is due: shorter than a first email (a
/// nudge, not a second pitch), at most `max_touches` emails in all, and never more than one a day.
public sealed class SendFollowUpTool(Crm crm) : ITool
{
    public const string MaxTouches = "max_touches";
    public const string MaxWords = "max_words";

    public static readonly ToolDescriptor Descriptor = new("crm_send_follow_up", "Sends the next email of the sequence to a lead whose follow-up is due: short, with a different angle from the emails before. Refused for a lead who unsubscribed, bounced or replied, before the follow-up is due, and after the sequence's last email.", ToolSchema.ClosedObject(Outbox.EmailSchema, "lead_id", "subject", "body", "sources"), SideEffects: true)
    {
        Settings = new Dictionary<string, string>
        {
            [Outbox.FollowUpAfterDays] = "days from 1 to 14 until the next follow-up is due, unless crm_schedule_follow_up sets another day (default 3)",
            [MaxTouches] = "the most emails a lead gets in the sequence, the first included (default 3)",
            [MaxWords] = "the most words of a follow-up (default 120)",
        },
    };

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
        Outbox.SendAsync(crm, arguments, invocation, async (lead, step, connection, transaction) =>
        {
            Outbox.Refuse(step == 1 ? $"{lead.Id} ({lead.Name}) has had no email yet: send the first one with crm_send_email. Nothing was sent." : null);
            var today = Crm.Day(crm.Today);
            if (await Outbox.Queued(connection, transaction, "o.lead_id = $a AND substr(o.queued_at, 1, 10) = $b", lead.Id, today, cancellationToken) is { } sentToday)
            {
                return $"{lead.Id} was already mailed today: nothing was sent again. {sentToday}";
            }

            var maxTouches = Outbox.Setting(invocation, MaxTouches, 3, 1, 10);
            Outbox.Refuse(step > maxTouches ? $"{lead.Name} has had all {maxTouches} emails of the sequence: stop here, or hand the lead to {lead.Owner} with crm_log_task. Nothing was sent." : null);
            Outbox.Refuse(lead.NextTouchOn is null || string.CompareOrdinal(lead.NextTouchOn, today) > 0
                ? $"{lead.Name}'s follow-up is not due until {lead.NextTouchOn ?? "a day is scheduled"}: leave it for that day's run. Nothing was sent." : null);
            var words = arguments.GetProperty("body").GetString()!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            var maxWords = Outbox.Setting(invocation, MaxWords, 120, 20, 1000);
            Outbox.Refuse(words > maxWords ? $"The follow-up has {words} words, over {maxWords}: a follow-up is a short nudge, shorten it. Nothing was sent." : null);
            return null;
        }, cancellationToken);
}
