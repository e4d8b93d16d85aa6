using System.Text.Json;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.Tests.Llm;
using static Agentry.Tests.Cases.MarketResearchScenario;

namespace Agentry.Tests.Cases;

/// Case 3 of the six (docs/cases/market-research.md): the shipped market-research agent under
/// `agentry serve`, its model the scripted OpenAI-compatible fake: news, filings and prices read at
/// once, a page the wiki refuses for citing a source nobody returned and its corrected retry, the
/// report on the wiki with its citations and anomalies, and the answer in Slack and in the mail.
/// And the run that is still waiting on a slow model at its deadline: it fails, publishing nothing.
public sealed class When_the_market_research_case_runs
{
    [Test]
    public async Task Should_publish_the_cited_report_with_its_anomalies_to_the_wiki_slack_and_email()
    {
        await using var server = await MarketResearchServer.StartAsync();
        server.Model.ScriptTheReport().ReplyWithAnswer(Answer, promptTokens: 1200, completionTokens: 150);

        var runId = await server.StartRunAsync(Goal, Input);
        var run = await server.EndedRunAsync(runId);

        Assert.That(run.GetProperty("status").GetString(), Is.EqualTo("Completed"), run.ToString());
        Assert.That(run.GetProperty("answer").GetString(), Is.EqualTo(Answer));

        // The trace of the run as Memory recorded it: three reads at once, the refusal, the retry.
        var steps = run.GetProperty("steps").EnumerateArray().ToList();
        Assert.That(steps.Select(s => s.GetProperty("toolCalls").GetArrayLength()), Is.EqualTo(new[] { 3, 1, 1, 0 }));
        Assert.That(steps[0].GetProperty("toolCalls").EnumerateArray().Select(c => c.GetProperty("tool").GetString()),
            Is.EqualTo(new[] { "market_news", "market_filings", "market_prices" }));
        var refused = steps[1].GetProperty("outcomes")[0];
        Assert.That(refused.GetProperty("error").GetString(), Does.StartWith("No source has the id N-2042: cite only the ids"));
        Assert.That(steps[2].GetProperty("outcomes")[0].GetProperty("output").GetString(),
            Is.EqualTo("Published the wiki page market-report-2026-12-07 (revision 1) with 5 citation(s) and 2 anomaly(ies)."));

        // And in the trace: each call a span of its step, the refused page an error.
        var tools = server.SpansOf(runId).Where(span => span.OperationName.StartsWith("execute_tool ", StringComparison.Ordinal))
            .OrderBy(span => span.GetTagItem(AgentryTelemetry.Tags.Step)).ThenBy(span => span.OperationName)
            .Select(span => $"{span.GetTagItem(AgentryTelemetry.Tags.Step)} {span.OperationName} {span.Status}").ToList();
        Assert.That(tools, Is.EqualTo(new[]
        {
            "1 execute_tool market_filings Unset", "1 execute_tool market_news Unset", "1 execute_tool market_prices Unset",
            "2 execute_tool publish_wiki_page Error", "3 execute_tool publish_wiki_page Unset",
        }));

        // The price feed found the one anomaly of the demo month, and only it.
        var prices = JsonDocument.Parse(steps[0].GetProperty("outcomes")[2].GetProperty("output").GetString()!).RootElement;
        var series = prices.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("ticker").GetString()!);
        var anomaly = series["ACME"].GetProperty("anomalies").EnumerateArray().Single();
        Assert.That((anomaly.GetProperty("id").GetString(), anomaly.GetProperty("change_pct").GetDouble()), Is.EqualTo(("PX-ACME-2026-12-03", -11.81)));
        Assert.That((anomaly.GetProperty("sigma").GetDouble(), anomaly.GetProperty("usual_daily_move_pct").GetDouble()), Is.EqualTo((-16.9, 0.7)),
            "measured against the 20 moves before it, not including itself");
        Assert.That(series["GLBX"].GetProperty("anomalies").GetArrayLength(), Is.Zero);
        var model = server.Model.Requests;
        Assert.That(model[1].Body, Does.Contain("outlook of 2.4 billion dollars in revenue was reaffirmed").And.Contain("lowered from 2.4 to 2.1 billion"),
            "the model was shown the story and the filing that contradicts it");
        Assert.That(model[2].Body, Does.Contain("No source has the id N-2042"), "the refusal reached the model");

        // The wiki page: the corrected version, once, with its citations and anomalies.
        Assert.That(await server.WikiAsync("SELECT slug || ' r' || revision || ' ' || citations FROM wiki_pages"),
            Is.EqualTo(new[] { """market-report-2026-12-07 r1 ["N-2041","F-0193","PX-ACME-2026-12-03","N-2038","N-2045"]""" }));
        var anomalies = JsonSerializer.Deserialize<string[]>((await server.WikiAsync("SELECT anomalies FROM wiki_pages")).Single())!;
        Assert.That(anomalies, Has.Length.EqualTo(2));
        Assert.That(anomalies[0], Does.Contain("[PX-ACME-2026-12-03]"));
        Assert.That(await server.WikiAsync("SELECT body FROM wiki_pages"), Is.EqualTo(new[] { Body }));

        // Slack and the mail carry the answer, citations and all.
        var slack = await server.SlackMessageAsync();
        Assert.That(slack.GetProperty("text").GetString(), Is.EqualTo("Run of market-research completed"));
        Assert.That(slack.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo(Answer));
        var mail = await server.MailAsync();
        Assert.That(mail.To.Mailboxes.Select(m => m.Address), Is.EqualTo(new[] { "research-desk@example.com" }));
        Assert.That(mail.Subject, Is.EqualTo("Run of market-research completed"));
        Assert.That(mail.TextBody?.Trim(), Is.EqualTo(Answer));

        // Every model call counted and priced (150 and 600 per million): three of 10 + 5 tokens and
        // the answer's 1200 + 150; 1230 * 0.00015 + 165 * 0.0006 = 0.2835.
        Assert.That(model, Has.Count.EqualTo(4));
        var usage = run.GetProperty("usage");
        Assert.That((usage.GetProperty("inputTokens").GetInt32(), usage.GetProperty("outputTokens").GetInt32()), Is.EqualTo((1230, 165)));
        Assert.That(run.GetProperty("totalCost").GetDecimal(), Is.EqualTo(0.2835m));
    }

    [Test]
    public async Task Should_fail_at_its_deadline_without_publishing_when_the_model_is_slow()
    {
        await using var server = await MarketResearchServer.StartAsync(deadline: "15s");
        server.Model
            .ReplyWithToolCalls(Gather("call_1", "market_news"), Gather("call_2", "market_filings"), Gather("call_3", "market_prices"))
            // The page the model would publish, had it answered before the deadline.
            .Enqueue(FakeReply.ToolCalls(Publish("call_4", "N-2041", "F-0193", "PX-ACME-2026-12-03", "N-2038", "N-2045")).After(TimeSpan.FromSeconds(40)));

        var runId = await server.StartRunAsync(Goal, Input);
        var run = await server.EndedRunAsync(runId);

        Assert.That(run.GetProperty("status").GetString(), Is.EqualTo("Failed"), run.ToString());
        var reason = run.GetProperty("reason").GetString()!;
        Assert.That(reason, Does.StartWith("Deadline passed: the run was still Planning").And.EndWith("15s after it started."));
        Assert.That(run.GetProperty("steps").GetArrayLength(), Is.EqualTo(1), run.ToString() + " requests: " + server.Model.RequestCount);
        var gathered = run.GetProperty("steps")[0];
        Assert.That(gathered.GetProperty("outcomes").EnumerateArray().Select(o => o.GetProperty("output").GetString()), Has.All.StartWith("{\"as_of\":\"2026-12-07\""),
            "the sources answered; the run waited on the model's next step");
        var slack = await server.SlackMessageAsync();
        Assert.That(slack.GetProperty("text").GetString(), Is.EqualTo("Run of market-research failed"));
        Assert.That(slack.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo(reason), "the team hears why there is no report");
        Assert.That((await server.MailAsync()).Subject, Is.EqualTo("Run of market-research failed"));

        // The model was asked for the next step before the deadline; nothing reached the wiki.
        Assert.That(server.Model.RequestCount, Is.EqualTo(2));
        Assert.That(await server.WikiAsync("SELECT slug FROM wiki_pages"), Is.Empty);
    }
}
