using System.Text.Json;
using Agentry.Agents;
using Agentry.Samples.LeadOutreach;
using Agentry.Tests.EndToEnd;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Samples;

/// The lead-outreach sample's CRM tools on their own: one email per lead and step whatever retries
/// or reruns happen, the refusals that keep the sequence honest (suppressed, replied, not due, a
/// page of another company, too long a follow-up), and the handover to the rep. The demo CRM is
/// created on Monday 2026-12-07: Chris Lee (L-204) was mailed on Sunday, his follow-up due Wednesday.
public sealed class When_the_lead_outreach_tools_are_called
{
    private TempFolder _folder = null!;
    private Crm _crm = null!;
    private FakeTimeProvider _clock = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 7, 30, 0, TimeSpan.Zero));
        _crm = new Crm(Options.Create(new CrmOptions { ConnectionString = Database }), _clock);
    }

    [TearDown]
    public void Stop() => _folder.Dispose();

    private string Database => $"Data Source={_folder.File("crm.db")};Pooling=False";

    private static ToolInvocation Call(string callId, Guid? run = null) => new(run ?? Guid.NewGuid(), "default", "lead-outreach", 1, callId) { Policy = ToolPolicy.Unrestricted };

    private static JsonElement Email(string lead, string body, params string[] sources) =>
        JsonSerializer.SerializeToElement(new { lead_id = lead, subject = "Lisbon and Chicago on call", body, sources });

    private static JsonElement Args(object arguments) => JsonSerializer.SerializeToElement(arguments);

    private async Task<List<string>> Rows(string sql)
    {
        await using var db = new SqliteConnection(Database);
        await db.OpenAsync();
        return await SqliteRows.Query(db, sql);
    }

    [Test]
    public async Task Should_mail_a_new_lead_once_however_often_the_call_is_repeated()
    {
        var send = new SendEmailTool(_crm);
        var run = Guid.NewGuid();
        var email = Email("L-201", "Hi Ana, 40 new data engineers in Lisbon means a new on-call rotation. Relay can help: worth a call?", "P-NW-1");

        var sent = await send.InvokeAsync(email, Call("call_1", run), CancellationToken.None);
        Assert.That(sent, Is.EqualTo("Email 1 to Ana Ruiz <ana.ruiz@northwind.example.com> is in the outbox (#2, queued 2026-12-07T07:30:00Z): \"Lisbon and Chicago on call\". Next touch on 2026-12-10 unless crm_schedule_follow_up sets another day."));
        Assert.That(await send.InvokeAsync(email, Call("call_1", run), CancellationToken.None), Does.StartWith("Email 1 to Ana Ruiz <ana.ruiz@northwind.example.com> is in the outbox (#2"), "a redelivered call");
        Assert.That(await send.InvokeAsync(email, Call("call_9"), CancellationToken.None), Does.StartWith("L-201 already got the first email: nothing was sent again."), "a second run the same morning");

        Assert.That(await Rows("SELECT lead_id || ' ' || step || ' ' || to_address || ' ' || sources FROM outbox ORDER BY id"),
            Is.EqualTo(new[] { "L-204 1 chris.lee@tailspin.example.com [\"P-TR-1\"]", "L-201 1 ana.ruiz@northwind.example.com [\"P-NW-1\"]" }));
        Assert.That(await Rows("SELECT stage || ' ' || step || ' ' || next_touch_on FROM leads WHERE id = 'L-201'"), Is.EqualTo(new[] { "in_sequence 1 2026-12-10" }));
        Assert.That(await Rows("SELECT count(*) FROM activities WHERE lead_id = 'L-201' AND kind = 'email_sent'"), Is.EqualTo(new[] { "1" }));
    }

    [TestCase("L-203", "Hi Dana, congratulations on the Series B.", "P-FH-1", "dana.whitfield@fabrikam-health.example.com is on the email service's suppression list (the person unsubscribed): never mail Dana Whitfield. Nothing was sent.")]
    [TestCase("L-201", "Hi Ana, I read about the three-day tracking outage.", "P-CF-1", "P-CF-1 is a page of Contoso Freight, not of Northwind Analytics, Ana Ruiz's company: research Northwind Analytics and write from its pages. Nothing was sent.")]
    [TestCase("L-201", "Hello, 40 new data engineers in Lisbon is a lot.", "P-NW-1", "The email never addresses Ana: greet Ana Ruiz by first name. Nothing was sent.")]
    [TestCase("L-201", "Hi Ana, 40 new data engineers in Lisbon is a lot.", "P-NW-9", "No company page has the id P-NW-9: name only pages company_research returned. Nothing was sent.")]
    [TestCase("L-999", "Hi Ana, 40 new data engineers in Lisbon is a lot.", "P-NW-1", "The CRM has no lead L-999: use the ids crm_leads_due returns.")]
    [TestCase("L-204", "Hi Chris, a second first email.", "P-TR-1", "L-204 already got the first email: nothing was sent again.")]
    public async Task Should_refuse_a_first_email_the_sequence_does_not_allow(string lead, string body, string source, string reason)
    {
        var send = new SendEmailTool(_crm);

        if (reason.EndsWith("nothing was sent again.", StringComparison.Ordinal))
        {
            Assert.That(await send.InvokeAsync(Email(lead, body, source), Call("call_1"), CancellationToken.None), Does.StartWith(reason));
        }
        else
        {
            var refused = Assert.ThrowsAsync<ToolException>(() => send.InvokeAsync(Email(lead, body, source), Call("call_1"), CancellationToken.None));
            Assert.That((refused!.Message, refused.CausedByCaller), Is.EqualTo((reason, true)));
        }

        Assert.That(await Rows("SELECT count(*) FROM outbox"), Is.EqualTo(new[] { "1" }), "only the demo's email to Chris Lee");
    }

    [Test]
    public async Task Should_list_the_new_leads_and_stop_the_suppressed_one()
    {
        var due = JsonDocument.Parse(await new LeadsDueTool(_crm).InvokeAsync(Args(new { }), Call("call_1"), CancellationToken.None)).RootElement;

        Assert.That(due.GetProperty("today").GetString(), Is.EqualTo("2026-12-07"));
        Assert.That(due.GetProperty("new_leads").EnumerateArray().Select(l => $"{l.GetProperty("id")} {l.GetProperty("company_domain")} {l.GetProperty("owner")}"),
            Is.EqualTo(new[] { "L-201 northwind.example.com sam.patel@relay.example.com", "L-202 contoso-freight.example.com jo.martin@relay.example.com" }));
        Assert.That(due.GetProperty("stopped").EnumerateArray().Select(l => $"{l.GetProperty("id")} {l.GetProperty("reason")}"), Is.EqualTo(new[] { "L-203 suppressed" }));
        Assert.That(due.GetProperty("follow_ups_due").GetArrayLength() + due.GetProperty("replied").GetArrayLength(), Is.Zero, "Chris Lee's follow-up is due on Wednesday");
    }

    [Test]
    public async Task Should_follow_up_only_when_due_briefly_and_once_a_day()
    {
        var followUp = new SendFollowUpTool(_crm);
        var nudge = Email("L-204", "Hi Chris, one more thought: Relay keeps the incident timeline, so the Black Friday review writes itself. 15 minutes this week?", "P-TR-1");

        var early = Assert.ThrowsAsync<ToolException>(() => followUp.InvokeAsync(nudge, Call("call_1"), CancellationToken.None));
        Assert.That(early!.Message, Is.EqualTo("Chris Lee's follow-up is not due until 2026-12-09: leave it for that day's run. Nothing was sent."));

        _clock.Advance(TimeSpan.FromDays(2));
        var due = JsonDocument.Parse(await new LeadsDueTool(_crm).InvokeAsync(Args(new { }), Call("call_2"), CancellationToken.None)).RootElement;
        Assert.That(due.GetProperty("follow_ups_due").EnumerateArray().Select(l => l.GetProperty("id").GetString()), Is.EqualTo(new[] { "L-204" }));
        var tooLong = Email("L-204", "Hi Chris, " + string.Join(' ', Enumerable.Repeat("really", 130)), "P-TR-1");
        Assert.That(Assert.ThrowsAsync<ToolException>(() => followUp.InvokeAsync(tooLong, Call("call_3"), CancellationToken.None))!.Message,
            Is.EqualTo("The follow-up has 132 words, over 120: a follow-up is a short nudge, shorten it. Nothing was sent."));

        Assert.That(await followUp.InvokeAsync(nudge, Call("call_4"), CancellationToken.None), Does.StartWith("Email 2 to Chris Lee").And.EndWith("Next touch on 2026-12-12 unless crm_schedule_follow_up sets another day."));
        Assert.That(await followUp.InvokeAsync(nudge, Call("call_5"), CancellationToken.None), Does.StartWith("L-204 was already mailed today: nothing was sent again. Email 2 to Chris Lee"));
        Assert.That(await Rows("SELECT lead_id || ' ' || step FROM outbox ORDER BY id"), Is.EqualTo(new[] { "L-204 1", "L-204 2" }));
    }

    [Test]
    public async Task Should_hand_a_replying_lead_to_its_owner_and_never_mail_it_again()
    {
        _clock.Advance(TimeSpan.FromDays(2));
        await using (var db = new SqliteConnection(Database))
        {
            await db.OpenAsync();
            await _crm.OpenAsync(CancellationToken.None);
            await using var command = db.CreateCommand();
            command.CommandText = "INSERT INTO activities (lead_id, kind, step, at, detail) VALUES ('L-204', 'replied', 1, '2026-12-08T16:02:00Z', 'Yes, call me on Thursday.')";
            await command.ExecuteNonQueryAsync();
        }

        var due = JsonDocument.Parse(await new LeadsDueTool(_crm).InvokeAsync(Args(new { }), Call("call_1"), CancellationToken.None)).RootElement;
        Assert.That(due.GetProperty("follow_ups_due").GetArrayLength(), Is.Zero);
        Assert.That(due.GetProperty("replied")[0].GetProperty("reply").GetProperty("text").GetString(), Is.EqualTo("Yes, call me on Thursday."));
        var followUp = Email("L-204", "Hi Chris, following up on my note.", "P-TR-1");
        Assert.That(Assert.ThrowsAsync<ToolException>(() => new SendFollowUpTool(_crm).InvokeAsync(followUp, Call("call_2"), CancellationToken.None))!.Message,
            Is.EqualTo("Chris Lee replied: no more automated email; hand the lead to jo.martin@relay.example.com with crm_log_task. Nothing was sent."));

        var task = Args(new { lead_id = "L-204", title = "Call Chris Lee on Thursday", notes = "He replied: yes, call me on Thursday." });
        var logTask = new LogTaskTool(_crm);
        Assert.That(await logTask.InvokeAsync(task, Call("call_3"), CancellationToken.None),
            Is.EqualTo("Logged a task for jo.martin@relay.example.com, due 2026-12-10: Call Chris Lee on Thursday. L-204 (Chris Lee) has left the automated sequence."));
        Assert.That(await logTask.InvokeAsync(task, Call("call_4"), CancellationToken.None), Is.EqualTo("Task #1 (Call Chris Lee on Thursday, due 2026-12-10) already hands L-204 to jo.martin@relay.example.com: nothing was logged again."));
        Assert.That(await Rows("SELECT owner || ' ' || title FROM tasks"), Is.EqualTo(new[] { "jo.martin@relay.example.com Call Chris Lee on Thursday" }));
        Assert.That(await Rows("SELECT stage || ' ' || ifnull(next_touch_on, '-') FROM leads WHERE id = 'L-204'"), Is.EqualTo(new[] { "handed_over -" }));
        var reschedule = Args(new { lead_id = "L-204", days = 3, reason = "after the call" });
        Assert.That(Assert.ThrowsAsync<ToolException>(() => new ScheduleFollowUpTool(_crm).InvokeAsync(reschedule, Call("call_5"), CancellationToken.None))!.Message,
            Is.EqualTo("Chris Lee replied: no more automated email; hand the lead to jo.martin@relay.example.com with crm_log_task. No follow-up was scheduled."));
    }

    [Test]
    public async Task Should_schedule_the_next_touch_only_for_a_lead_in_the_sequence()
    {
        var schedule = new ScheduleFollowUpTool(_crm);

        Assert.That(await schedule.InvokeAsync(Args(new { lead_id = "L-204", days = 5, reason = "no open yet" }), Call("call_1"), CancellationToken.None),
            Is.EqualTo("Next touch for L-204 (Chris Lee) on 2026-12-12, in 5 day(s): no open yet"));
        Assert.That(Assert.ThrowsAsync<ToolException>(() => schedule.InvokeAsync(Args(new { lead_id = "L-202", days = 2, reason = "soon" }), Call("call_2"), CancellationToken.None))!.Message,
            Is.EqualTo("L-202 (Ben Okafor) is new, not in the sequence: only a lead who got an email has a follow-up. No follow-up was scheduled."));
        Assert.That(await Rows("SELECT id || ' ' || ifnull(next_touch_on, '-') FROM leads ORDER BY id"), Is.EqualTo(new[] { "L-201 -", "L-202 -", "L-203 -", "L-204 2026-12-12" }));
    }
}
