using System.Text.Json;
using Agentry.Tests.Llm;

namespace Agentry.Tests.Cases;

/// The emails, tasks and schedules of the lead-outreach case's scripted model (docs/cases/lead-outreach.md),
/// written from the demo CRM's company pages: each first email names facts of the lead's own company.
public static class LeadOutreachScenario
{
    /// The schedule's goal for a day. Each morning's differs, as the schedule's does, so the response
    /// cache never answers one morning's first step with another's.
    public static string Goal(DateOnly day) =>
        $"Work the outreach sequence for {day:yyyy-MM-dd} ({day.DayOfWeek}): first emails to new leads, due follow-ups, replies to hand over.";

    public const string AnaSubject = "Lisbon and Chicago on one on-call rotation";

    public const string AnaBody = "Hi Ana, I read that Northwind Analytics is opening a Lisbon hub with 40 data engineers, sharing the on-call for the nightly retraining with Chicago. Handovers across two time zones are where pages get lost: Relay pages the right engineer within a minute and keeps one timeline across the handover. Would a 20-minute look at how other forecasting teams run such a rotation help? Sam";

    public const string BenSubject = "Escalations across 14 countries";

    public const string BenBody = "Hi Ben, I saw that Contoso Freight's shipment tracking was down for three days in October, and that you are reviewing how incidents are escalated across your 14 countries. Relay escalates to the right dispatcher or engineer within a minute, in any country, and keeps the timeline for the review. Could I show you how a 2,300-truck fleet would set it up? Jo";

    public const string AnaNudgeSubject = "9,000 models before the stores open";

    public const string AnaNudge = "Hi Ana, a different thought: with 9,000 models retrained every night before the stores open, a failed retrain is a morning problem for 120 grocery chains. Relay wakes the one engineer who owns it, not the whole team. Worth 15 minutes this week? Sam";

    public const string BenReply = "Hi Jo, good timing: we are reviewing our escalation process after October. Can you do Thursday at 10:00? Ben";

    public static FakeToolCall Call(string id, string tool, object arguments) => new(id, $"tools-{tool}", JsonSerializer.Serialize(arguments));

    public static FakeToolCall Email(string id, string lead, string subject, string body, params string[] sources) =>
        Call(id, "crm_send_email", new { lead_id = lead, subject, body, sources });

    /// The first morning: the work list, the two companies researched at once, both first emails at
    /// once (the one to Ana naming a page of Contoso Freight by mistake), Ana's corrected, and the next touches.
    public static OpenAiFake ScriptFirstMorning(this OpenAiFake model) => model
        .ReplyWithToolCalls(Call("call_1", "crm_leads_due", new { }))
        .ReplyWithToolCalls(Call("call_2", "company_research", new { company = "northwind.example.com" }), Call("call_3", "company_research", new { company = "contoso-freight.example.com" }))
        .ReplyWithToolCalls(Email("call_4", "L-201", AnaSubject, AnaBody, "P-CF-1"), Email("call_5", "L-202", BenSubject, BenBody, "P-CF-1", "P-CF-2"))
        .ReplyWithToolCalls(Email("call_6", "L-201", AnaSubject, AnaBody, "P-NW-1", "P-NW-3"))
        .ReplyWithToolCalls(
            Call("call_7", "crm_schedule_follow_up", new { lead_id = "L-201", days = 3, reason = "first email today; nudge after three days" }),
            Call("call_8", "crm_schedule_follow_up", new { lead_id = "L-202", days = 4, reason = "VP level: give the first email four days" }));

    /// The first morning's work without its wrong turn: the work list, both companies researched at
    /// once, both first emails at once, each citing its own company's pages.
    public static OpenAiFake ScriptFirstEmails(this OpenAiFake model) => model
        .ReplyWithToolCalls(Call("call_1", "crm_leads_due", new { }))
        .ReplyWithToolCalls(Call("call_2", "company_research", new { company = "northwind.example.com" }), Call("call_3", "company_research", new { company = "contoso-freight.example.com" }))
        .ReplyWithToolCalls(Email("call_4", "L-201", AnaSubject, AnaBody, "P-NW-1", "P-NW-3"), Email("call_5", "L-202", BenSubject, BenBody, "P-CF-1", "P-CF-2"));

    /// Three days later: the work list, both leads' histories at once, the nudge to Ana (who opened
    /// twice) and the handover of Ben (who replied) at once, then Ana's next touch, sooner since she reads.
    public static OpenAiFake ScriptThreeDaysLater(this OpenAiFake model) => model
        .ReplyWithToolCalls(Call("call_1", "crm_leads_due", new { }))
        .ReplyWithToolCalls(Call("call_2", "crm_lead_activity", new { lead_id = "L-201" }), Call("call_3", "crm_lead_activity", new { lead_id = "L-202" }))
        .ReplyWithToolCalls(
            Call("call_4", "crm_send_follow_up", new { lead_id = "L-201", subject = AnaNudgeSubject, body = AnaNudge, sources = new[] { "P-NW-2" } }),
            Call("call_5", "crm_log_task", new
            {
                lead_id = "L-202",
                title = "Call Ben Okafor back: Thursday 10:00 suits him",
                notes = "Ben replied to \"Escalations across 14 countries\": they are reviewing their escalation process after the October tracking outage and ask for a call on Thursday at 10:00.",
                due_in_days = 0,
            }))
        .ReplyWithToolCalls(Call("call_6", "crm_schedule_follow_up", new { lead_id = "L-201", days = 2, reason = "opened the first email twice" }));

    /// The results of the calls of the step before the request, as the model received them.
    public static string ToolResults(FakeRequest request) => string.Join("\n", request.Messages.EnumerateArray()
        .Reverse().TakeWhile(m => m.GetProperty("role").GetString() == "tool").Reverse()
        .Select(m => m.GetProperty("content") is { ValueKind: JsonValueKind.String } text ? text.GetString() : m.GetProperty("content").ToString()));
}
