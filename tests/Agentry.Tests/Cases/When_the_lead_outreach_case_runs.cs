using System.Globalization;
using System.Text.Json;
using Agentry.Cli;
using Agentry.Contracts;
using static Agentry.Tests.Cases.LeadOutreachScenario;

namespace Agentry.Tests.Cases;

/// Case 5 of the six (docs/cases/lead-outreach.md): the shipped lead-outreach agent under `agentry
/// serve`, its model the scripted fake, its CRM the sample database. The first morning: two
/// companies researched at once, two first emails at once that the rep approves, one refused for
/// naming another company's page and corrected, the suppressed lead left alone, the next touches set.
/// Three days later, after the CRM recorded opens, a reply and an unsubscribe: a short nudge to the
/// lead who opened, the one who replied handed to his rep, nothing to the one who unsubscribed.
/// And the rep who denies a first email: nothing is sent and the lead waits for the next morning;
/// and the offline model, which reads the work list and reports it, mailing nobody.
public sealed class When_the_lead_outreach_case_runs
{
    private static string Day(string today, int days) =>
        DateOnly.ParseExact(today, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Test]
    public async Task Should_research_mail_and_follow_up_each_lead_as_the_crm_records_its_answers()
    {
        await using var server = await LeadOutreachServer.StartAsync();
        const string firstSummary = "Sent (approved by Sam): Ana Ruiz, next touch in 3 days; Ben Okafor, next touch in 4 days. Stopped: Dana Whitfield (suppressed: unsubscribed earlier).";
        server.Model.ScriptFirstMorning().ReplyWithAnswer(firstSummary, promptTokens: 900, completionTokens: 150);

        var first = await server.StartRunAsync(Goal(DateOnly.FromDateTime(DateTime.UtcNow)));
        var both = await server.PendingApprovalsAsync(first, 2);
        Assert.That(both.Select(a => a.Arguments.GetProperty("lead_id").GetString()), Is.EqualTo(new[] { "L-201", "L-202" }), "both first emails wait for the rep at once");
        Assert.That(both[1].Arguments.GetProperty("body").GetString(), Is.EqualTo(BenBody), "the rep reads the exact email");
        Assert.That(await server.RowsAsync("SELECT count(*) FROM outbox"), Is.EqualTo(new[] { "1" }), "nothing is sent before the rep decides (the one row is the demo's earlier email)");
        foreach (var approval in both)
        {
            await server.DecideAsync(first, approval, approved: true, "good");
        }

        var corrected = (await server.PendingApprovalsAsync(first, 1, decided: both)).Single();
        Assert.That((corrected.CallId, corrected.Arguments.GetProperty("sources").ToString()), Is.EqualTo(("call_6", """["P-NW-1","P-NW-3"]""")));
        await server.DecideAsync(first, corrected, approved: true, "better");
        var run = await server.EndedRunAsync(first);

        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(run.Answer, Is.EqualTo(firstSummary));
        Assert.That(run.Steps.Select(s => string.Join(",", s.ToolCalls.Select(c => c.Tool))), Is.EqualTo(new[]
        {
            "crm_leads_due", "company_research,company_research", "crm_send_email,crm_send_email", "crm_send_email", "crm_schedule_follow_up,crm_schedule_follow_up", "",
        }));
        var today = JsonDocument.Parse(run.Steps[0].Outcomes[0].Output).RootElement.GetProperty("today").GetString()!;
        var refused = run.Steps[2].Outcomes.Single(o => o.CallId == "call_4");
        Assert.That(refused.Error, Is.EqualTo("P-CF-1 is a page of Contoso Freight, not of Northwind Analytics, Ana Ruiz's company: research Northwind Analytics and write from its pages. Nothing was sent."));
        Assert.That(run.Approvals!.Select(a => $"{a.CallId} {a.Approved} {a.DecidedBy}"), Is.EquivalentTo(new[] { "call_4 True sam.patel", "call_5 True sam.patel", "call_6 True sam.patel" }));

        // What the model was shown: the suppressed lead among the stopped, the companies' pages, the refusal.
        var requests = server.Model.Requests;
        Assert.That(ToolResults(requests[1]), Does.Contain("\"stopped\":[{\"id\":\"L-203\",\"name\":\"Dana Whitfield\",\"company\":\"Fabrikam Health\",\"reason\":\"suppressed\"}]"));
        Assert.That(ToolResults(requests[2]), Does.Contain("will hire 40 data engineers in Lisbon").And.Contain("down for three days in October"));
        Assert.That(ToolResults(requests[3]), Does.Contain("P-CF-1 is a page of Contoso Freight"));

        // The CRM's outbox: each email once, to the address the CRM holds, naming its own company's facts.
        Assert.That(await server.RowsAsync("SELECT lead_id || ' ' || step || ' ' || to_address || ' ' || sources || ' ' || call_id FROM outbox WHERE run_id <> 'demo' ORDER BY id"), Is.EqualTo(new[]
        {
            """L-202 1 ben.okafor@contoso-freight.example.com ["P-CF-1","P-CF-2"] call_5""",
            """L-201 1 ana.ruiz@northwind.example.com ["P-NW-1","P-NW-3"] call_6""",
        }));
        Assert.That(await server.RowsAsync("SELECT body FROM outbox WHERE lead_id IN ('L-201', 'L-202') ORDER BY lead_id"), Is.EqualTo(new[] { AnaBody, BenBody }));
        Assert.That(await server.RowsAsync("SELECT body FROM outbox WHERE lead_id = 'L-202'"), Has.One.Contains("three days in October").And.Contains("14 countries"), "the facts of Contoso Freight's pages");
        Assert.That(await server.RowsAsync("SELECT id || ' ' || stage || ' ' || ifnull(next_touch_on, '-') FROM leads ORDER BY id"), Is.EqualTo(new[]
        {
            $"L-201 in_sequence {Day(today, 3)}", $"L-202 in_sequence {Day(today, 4)}", "L-203 new -", $"L-204 in_sequence {Day(today, 2)}",
        }));

        // The trace: each call a span of its step, the refused email an error.
        Assert.That(server.ToolSpansOf(first), Is.EqualTo(new[]
        {
            "1 crm_leads_due Unset", "2 company_research Unset", "2 company_research Unset", "3 crm_send_email Error", "3 crm_send_email Unset",
            "4 crm_send_email Unset", "5 crm_schedule_follow_up Unset", "5 crm_schedule_follow_up Unset",
        }));

        // Cost: five replies of 10 + 5 tokens and the summary's 900 + 150, at 150 and 600 per million:
        // 950 * 0.00015 + 175 * 0.0006 = 0.2475.
        Assert.That(run.Usage, Is.EqualTo(new TokenUsage(950, 175)));
        Assert.That(run.TotalCost, Is.EqualTo(0.2475m));

        // Three days pass (the CRM's dates move back three days: the test cannot move the server's
        // clock, and "today" stays the same day). The email service records: Ana opened twice, Ben opened and replied, Chris
        // (mailed before the first run) unsubscribed.
        await server.PassDaysAsync(3);
        await server.ExecuteAsync($"""
            INSERT INTO activities (lead_id, kind, step, at, detail) VALUES
              ('L-201', 'opened', 1, strftime('%Y-%m-%dT09:14:00Z', 'now', '-2 days'), NULL),
              ('L-201', 'opened', 1, strftime('%Y-%m-%dT18:40:00Z', 'now', '-1 days'), NULL),
              ('L-202', 'opened', 1, strftime('%Y-%m-%dT07:55:00Z', 'now', '-2 days'), NULL),
              ('L-202', 'replied', 1, strftime('%Y-%m-%dT08:03:00Z', 'now', '-2 days'), '{BenReply}'),
              ('L-204', 'unsubscribed', 1, strftime('%Y-%m-%dT12:00:00Z', 'now', '-1 days'), NULL);
            """);
        server.Model.Reset();
        const string secondSummary = "Follow-up to Ana Ruiz (opened twice), next touch in 2 days. Ben Okafor replied: handed to jo.martin@relay.example.com. Stopped: Chris Lee (unsubscribed), Dana Whitfield (suppressed).";
        server.Model.ScriptThreeDaysLater().ReplyWithAnswer(secondSummary, promptTokens: 700, completionTokens: 100);

        var second = await server.StartRunAsync(Goal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(3)));
        run = await server.EndedRunAsync(second);

        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(run.Approvals ?? [], Is.Empty, "follow-ups and handovers need no approval");
        Assert.That(run.Steps.SelectMany(s => s.Outcomes).All(o => o.Succeeded), string.Join("\n", run.Steps.SelectMany(s => s.Outcomes).Select(o => o.Error)));
        var work = JsonDocument.Parse(run.Steps[0].Outcomes[0].Output).RootElement;
        Assert.That(work.GetProperty("new_leads").GetArrayLength(), Is.Zero);
        var due = work.GetProperty("follow_ups_due").EnumerateArray().Single();
        Assert.That((due.GetProperty("id").GetString(), due.GetProperty("last_email").GetProperty("opened").GetInt32()), Is.EqualTo(("L-201", 2)));
        Assert.That(work.GetProperty("replied").EnumerateArray().Single().GetProperty("reply").GetProperty("text").GetString(), Is.EqualTo(BenReply));
        Assert.That(work.GetProperty("stopped").EnumerateArray().Select(l => $"{l.GetProperty("id")} {l.GetProperty("reason")}"), Is.EqualTo(new[] { "L-203 suppressed", "L-204 unsubscribed" }));
        Assert.That(ToolResults(server.Model.Requests[2]), Does.Contain(AnaSubject), "the model saw what Ana was sent before, to take another angle");

        // The adjustment, in the CRM: a second, shorter email to Ana only; Ben handed to his rep; Chris untouched.
        Assert.That(await server.RowsAsync("SELECT lead_id || ' ' || step || ' ' || subject FROM outbox ORDER BY id"), Is.EqualTo(new[]
        {
            "L-204 1 Black Friday's 40 minutes", $"L-202 1 {BenSubject}", $"L-201 1 {AnaSubject}", $"L-201 2 {AnaNudgeSubject}",
        }));
        Assert.That(await server.RowsAsync("SELECT sources || ' ' || body FROM outbox WHERE lead_id = 'L-201' AND step = 2"), Is.EqualTo(new[] { $"[\"P-NW-2\"] {AnaNudge}" }),
            "another page, another angle than the first email's Lisbon hub");
        Assert.That(await server.RowsAsync("SELECT lead_id || ' ' || owner || ' ' || due_on || ' ' || title FROM tasks"),
            Is.EqualTo(new[] { $"L-202 jo.martin@relay.example.com {today} Call Ben Okafor back: Thursday 10:00 suits him" }));
        Assert.That(await server.RowsAsync("SELECT id || ' ' || stage || ' ' || step || ' ' || ifnull(next_touch_on, '-') FROM leads ORDER BY id"), Is.EqualTo(new[]
        {
            $"L-201 in_sequence 2 {Day(today, 2)}", "L-202 handed_over 1 -", "L-203 new 0 -", $"L-204 in_sequence 1 {Day(today, -1)}",
        }));
        Assert.That(server.ToolSpansOf(second), Is.EqualTo(new[]
        {
            "1 crm_leads_due Unset", "2 crm_lead_activity Unset", "2 crm_lead_activity Unset", "3 crm_log_task Unset", "3 crm_send_follow_up Unset", "4 crm_schedule_follow_up Unset",
        }));
        // Four replies of 10 + 5 and the summary's 700 + 100: 740 * 0.00015 + 120 * 0.0006 = 0.183.
        Assert.That((run.Usage, run.TotalCost), Is.EqualTo((new TokenUsage(740, 120), 0.183m)));
    }

    [Test]
    public async Task Should_send_nothing_when_the_rep_denies_the_first_email()
    {
        await using var server = await LeadOutreachServer.StartAsync();
        server.Model
            .ReplyWithToolCalls(Call("call_1", "crm_leads_due", new { }))
            .ReplyWithToolCalls(Call("call_2", "company_research", new { company = "northwind.example.com" }))
            .ReplyWithToolCalls(Email("call_3", "L-201", AnaSubject, AnaBody, "P-NW-1", "P-NW-3"))
            .ReplyWithAnswer("The first email to Ana Ruiz was denied by Sam: she is in talks through a partner. Nothing was sent; she stays a new lead.");

        var runId = await server.StartRunAsync(Goal(DateOnly.FromDateTime(DateTime.UtcNow)));
        await server.DecideAsync(runId, (await server.PendingApprovalsAsync(runId, 1)).Single(), approved: false, "Ana is already in talks with us through a partner: I will write to her myself");
        var run = await server.EndedRunAsync(runId);

        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(run.Approvals!.Single() is { Tool: "crm_send_email", Approved: false, DecidedBy: "sam.patel" }, Is.True);
        var denied = run.Steps[2].Outcomes.Single();
        Assert.That(denied.Succeeded, Is.False);
        Assert.That(denied.Error, Does.Contain("I will write to her myself"));
        Assert.That(server.Model.Requests[3].Body, Does.Contain("I will write to her myself"), "the model is told why");
        Assert.That(await server.RowsAsync("SELECT count(*) FROM outbox WHERE lead_id = 'L-201'"), Is.EqualTo(new[] { "0" }));
        Assert.That(await server.RowsAsync("SELECT stage || ' ' || step || ' ' || ifnull(next_touch_on, '-') FROM leads WHERE id = 'L-201'"), Is.EqualTo(new[] { "new 0 -" }),
            "still a new lead: the next morning's run offers it to the rep again");
    }
    [Test]
    public async Task Should_only_read_the_work_list_with_the_offline_model_and_mail_nobody()
    {
        using var folder = new TempFolder();
        var crm = $"Data Source={folder.File("crm.db")};Pooling=False";
        var (exit, output, error) = await AgentryRun.RunAsync(new RunOptions(Goal(DateOnly.FromDateTime(DateTime.UtcNow)), "lead-outreach", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString,
                ["Tools:Crm:ConnectionString"] = crm,
            }, Approvals: new ApprovalChoice(ApprovalMode.Deny, "nobody")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("call     crm_leads_due {}").And.Contain("\"new_leads\":[{\"id\":\"L-201\""), "it reads and reports the day's work list");
        Assert.That(output, Does.Not.Contain("crm_send").And.Not.Contain("waits for approval"));
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection(crm);
        await db.OpenAsync();
        Assert.That(await EndToEnd.SqliteRows.Query(db, "SELECT lead_id FROM outbox"), Is.EqualTo(new[] { "L-204" }), "only the demo's earlier email");
        Assert.That(await EndToEnd.SqliteRows.Query(db, "SELECT id FROM leads WHERE stage = 'new' ORDER BY id"), Is.EqualTo(new[] { "L-201", "L-202", "L-203" }));
    }
}
