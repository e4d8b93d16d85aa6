using Agentry.Cli;
using Agentry.Tests.EndToEnd;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.Cases;

/// Case 1 of the six (docs/cases/customer-support.md): the shipped customer-support agent, in the
/// embedded default, with its model the scripted OpenAI-compatible fake replaying a ticket over the
/// real protocol: parallel lookups (order, parcel, returns policy), a wrong turn and its retry, a
/// refund a person approves, the reply on the ticket; and the high-value case a person takes over.
public sealed class When_the_customer_support_case_runs
{
    private const string Ticket = "Zendesk ticket #35436: Broken headphones. Order 1042 arrived with the left ear cup cracked. This is the second time, I am really annoyed. I want my money back.";

    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    private string Orders => $"Data Source={_folder.File("orders.db")};Pooling=False";

    private Dictionary<string, string?> Settings => new()
    {
        ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
        ["Tools:Orders:ConnectionString"] = Orders,
        ["Llm:DefaultProvider"] = "scripted",
        ["Llm:Providers:scripted:Kind"] = "openai-compatible",
        ["Llm:Providers:scripted:Endpoint"] = _fake.BaseUrl.ToString(),
        ["Llm:Providers:scripted:MaxRetries"] = "0",
        ["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150",
        ["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600",
    };

    private async Task<(int ExitCode, string Output)> Run(string goal, ApprovalChoice approvals)
    {
        var policy = Path.Combine(Path.GetDirectoryName(TestAgents.RepositoryAgentsFolder())!, "samples", "order-desk", "knowledge");
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ingested = await KnowledgeCommands.IngestAsync("returns", [policy], "default", output, error, timeout.Token, Settings);
        Assert.That(ingested, Is.EqualTo(ExitCodes.Completed), output.ToString() + error);

        var (exit, ran, failed) = await AgentryRun.RunAsync(
            new RunOptions(goal, "customer-support", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, Settings, Approvals: approvals));
        return (exit, ran + failed);
    }

    private async Task<List<string>> Rows(string sql)
    {
        await using var db = new SqliteConnection(Orders);
        await db.OpenAsync();
        return await SqliteRows.Query(db, sql);
    }

    private static FakeReply Judged(string verdict, double confidence) =>
        FakeReply.Answer($$"""{"verdict": "{{verdict}}", "confidence": {{confidence}}, "reason": "The reply and the refund answer the ticket."}""");

    [Test]
    public async Task Should_refund_the_broken_order_after_approval_and_answer_the_customer_on_the_ticket()
    {
        _fake
            // Order, parcel and policy at once; the order number is given with its '#', which the
            // tool's schema refuses: none of the three runs, and the model proposes them again.
            .ReplyWithToolCalls(
                new FakeToolCall("call_1", "tools-lookup_order", """{"order_id":"#1042"}"""),
                new FakeToolCall("call_2", "tools-track_shipment", """{"order_id":"1042"}"""),
                new FakeToolCall("call_3", "tools-search_knowledge", """{"query":"item arrived damaged or broken refund"}"""))
            .ReplyWithToolCalls(
                new FakeToolCall("call_4", "tools-lookup_order", """{"order_id":"1042"}"""),
                new FakeToolCall("call_5", "tools-track_shipment", """{"order_id":"1042"}"""),
                new FakeToolCall("call_6", "tools-search_knowledge", """{"query":"item arrived damaged or broken refund"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_7", "tools-refund_order", """{"order_id":"1042","reason":"Arrived with the left ear cup cracked"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_8", "tools-reply_to_ticket",
                """{"ticket_id":"35436","message":"I am sorry your headphones arrived broken, twice. Under our policy for items damaged on arrival [returns-policy.md, passage 1] I have refunded 249.99 EUR to your original payment; there is no need to send them back."}"""))
            .ReplyWithAnswer("Refunded order 1042 (249.99 EUR, damaged on arrival) and answered the customer on ticket 35436.", promptTokens: 900, completionTokens: 40)
            .Enqueue(Judged("complete", 0.95));

        var (exit, output) = await Run(Ticket, new ApprovalChoice(ApprovalMode.Approve, "lead", "damage confirmed by photo"));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(await Rows("SELECT order_id || ' ' || amount || ' ' || reason FROM refunds"), Is.EqualTo(new[] { "1042 249.99 Arrived with the left ear cup cracked" }));
        Assert.That(await Rows("SELECT status FROM orders WHERE order_id = '1042'"), Is.EqualTo(new[] { "refunded" }));
        var replies = await Rows("SELECT ticket_id || ': ' || message FROM ticket_replies");
        Assert.That(replies, Has.Count.EqualTo(1));
        Assert.That(replies[0], Does.StartWith("35436: I am sorry").And.Contain("refunded 249.99 EUR"));
        Assert.That(output, Does.Contain("approved by lead: damage confirmed by photo"));

        // What the model was shown: the refused argument, the parcel, the policy passage, the refund.
        var requests = _fake.Requests;
        Assert.That(requests, Has.Count.EqualTo(6), "the refused reply asked again within step 1, four more planning calls, the judge\n" + output);
        Assert.That(requests[1].Body, Does.Contain("Invalid arguments for lookup_order: /order_id"), "the wrong turn's error reached the model");
        var looked = requests[2].Body;
        Assert.That(looked, Does.Contain("Grace Hopper"), "the order");
        Assert.That(looked, Does.Contain("Delivered 2026-11-15"), "the carrier's answer");
        Assert.That(looked, Does.Contain("returns-policy.md").And.Contain("refunded in full"), "the policy passage");
        Assert.That(requests[3].Body, Does.Contain("Refunded 249.99 EUR for order 1042"));

        // Every model call counted and priced (150 and 600 per million): four replies of 10 + 5
        // tokens, the answer's 900 + 40 and the judge's 10 + 5; 950 * 0.00015 + 65 * 0.0006 = 0.1815.
        Assert.That(output, Does.Contain("Completed in 4 steps, 1015 tokens (950 in, 65 out), $0.1815,"), output);
    }

    [Test]
    public async Task Should_hand_a_refund_over_the_agents_limit_to_a_person_with_the_whole_case()
    {
        _fake
            .ReplyWithToolCalls(
                new FakeToolCall("call_1", "tools-lookup_order", """{"order_id":"1050"}"""),
                new FakeToolCall("call_2", "tools-search_knowledge", """{"query":"refund laptop screen flickers"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_3", "tools-refund_order", """{"order_id":"1050","reason":"The screen flickers"}"""));

        var (exit, output) = await Run("Zendesk ticket #35500: Laptop. The screen of my laptop (order 1050) flickers. Refund it.",
            new ApprovalChoice(ApprovalMode.Approve, "lead"));

        Assert.That(exit, Is.EqualTo(ExitCodes.NotCompleted), output);
        Assert.That(output, Does.Contain("Escalated to a person: refund_order needs a person: Order 1050 is worth 1899.00 EUR, over agent 'customer-support''s refund limit of 500.00 EUR"));
        // The summary the person receives: the goal, what was tried, and how to take it over.
        Assert.That(output, Does.Contain("Goal: Zendesk ticket #35500").And.Contain("lookup_order {\"order_id\":\"1050\"}").And.Contain("agentry resume"));
        Assert.That(await Rows("SELECT order_id FROM refunds"), Is.Empty, "no money moved");
        Assert.That(await Rows("SELECT status FROM orders WHERE order_id = '1050'"), Is.EqualTo(new[] { "delivered" }));
        Assert.That(_fake.RequestCount, Is.EqualTo(2), "the model is not asked to find a way around the limit");
    }

    [Test]
    public async Task Should_reroute_a_parcel_held_by_the_carrier_without_asking_anyone()
    {
        _fake
            .ReplyWithToolCalls(new FakeToolCall("call_1", "tools-track_shipment", """{"order_id":"1051"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "tools-reroute_shipment", """{"order_id":"1051","address":"Plantage Muidergracht 24-II, 1018 TV Amsterdam"}"""))
            .ReplyWithAnswer("The carrier will deliver order 1051 to the corrected address.")
            .Enqueue(Judged("complete", 0.9));

        var (exit, output) = await Run("My monitor (order 1051) is stuck at the depot, the flat number was missing: it is Plantage Muidergracht 24-II, 1018 TV Amsterdam.",
            new ApprovalChoice(ApprovalMode.Deny, "nobody", Input: new StringReader("")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Not.Contain("waits for approval"));
        Assert.That(await Rows("SELECT order_id || ' ' || address FROM reroutes"), Is.EqualTo(new[] { "1051 Plantage Muidergracht 24-II, 1018 TV Amsterdam" }));
        Assert.That(_fake.Requests[1].Body, Does.Contain("Address not found: held at the Amsterdam depot"));
    }

    [Test]
    public async Task Should_not_let_the_agent_reroute_a_parcel_already_delivered()
    {
        _fake
            .ReplyWithToolCalls(new FakeToolCall("call_1", "tools-reroute_shipment", """{"order_id":"1042","address":"1 New Street, Springfield"}"""))
            .ReplyWithAnswer("Order 1042 was already delivered, so it cannot be sent elsewhere.")
            .Enqueue(Judged("complete", 0.9));

        var (exit, output) = await Run("Send order 1042 to 1 New Street, Springfield instead", new ApprovalChoice(ApprovalMode.Deny, "nobody", Input: new StringReader("")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Order 1042 was already delivered: DHL cannot reroute it."));
        Assert.That(await Rows("SELECT order_id FROM reroutes"), Is.Empty);
    }
}
