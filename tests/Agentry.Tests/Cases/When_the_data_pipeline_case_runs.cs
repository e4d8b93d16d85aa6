using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Agentry.Tests.Cases.DataPipelineScenario;

namespace Agentry.Tests.Cases;

/// Case 6 of the six (docs/cases/data-pipeline.md): every service and the Gateway in one process
/// (`agentry serve`), the shipped data-pipeline agent with its Slack channel a local capture, and
/// the scripted model. A signed data-quality alert starts the run; it reads runs, logs and schema in
/// parallel, tries a wrong migration that fails the checks in staging, corrects it, and promotes it
/// once a person approves; the incident report reaches Slack. A denied promotion leaves production as it was.
public sealed class When_the_data_pipeline_case_runs
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;
    private WebApplication _slack = null!;
    private WebApplication _server = null!;
    private HttpClient _http = null!;
    private readonly Channel<JsonElement> _slackMessages = Channel.CreateUnbounded<JsonElement>();

    private string Prod => $"Data Source={_folder.File("warehouse.db")};Pooling=False";

    private string Staging => $"Data Source={_folder.File("warehouse-staging.db")};Pooling=False";

    [SetUp]
    public async Task Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        Uri slack;
        (_slack, slack) = await LocalHttpServer.StartAsync(app => app.MapPost("/slack", async (HttpRequest request) =>
        {
            await _slackMessages.Writer.WriteAsync((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Text("ok");
        }));
        _server = Commands.BuildServer(WriteAgent(_folder.Path, TestAgents.RepositoryAgentsFolder(), new Uri(slack, "/slack")), "http://127.0.0.1:0", verbose: false, new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Tools:Warehouse:ProdConnectionString"] = Prod,
            ["Tools:Warehouse:StagingConnectionString"] = Staging,
            ["Triggers:Secrets:data_quality_alerts"] = Secret,
            ["Llm:DefaultProvider"] = "scripted",
            ["Llm:Providers:scripted:Kind"] = "openai-compatible",
            ["Llm:Providers:scripted:Endpoint"] = _fake.BaseUrl.ToString(),
            ["Llm:Providers:scripted:MaxRetries"] = "0",
            ["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150",
            ["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600",
        });
        await _server.StartAsync();
        // The key's name is who decides the approval.
        var key = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "alice", GatewayRoles.All, "test", DateTimeOffset.UtcNow);
        await _server.Services.GetRequiredService<IApiKeyStore>().AddAsync(key.Key, CancellationToken.None);
        _http = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(_server) };
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Secret);
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _slack.DisposeAsync();
        _fake.Dispose();
        _folder.Dispose();
    }

    [Test]
    public async Task Should_fix_the_drift_in_staging_promote_it_after_approval_and_report_the_incident_to_slack()
    {
        _fake.ScriptDiagnosisAndMigrations().ReplyWithAnswer(Report, promptTokens: 900, completionTokens: 120);

        var runId = await DeliverAlert();
        var approval = await PendingApproval(runId);
        Assert.That(approval.GetProperty("arguments").GetProperty("sql").GetString(), Is.EqualTo(Migration), "the person sees the exact SQL");
        Assert.That(await Rows(Prod, "SELECT source_column FROM load_mappings WHERE target_column = 'amount'"), Is.EqualTo(new[] { "amount" }), "nothing reaches production before the person decides");
        Assert.That(await Rows(Staging, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "0" }), "staging holds the corrected migration");
        await Decide(runId, approval, approved: true, "backfill checked against the control totals");

        var report = await SlackMessage("Run of data-pipeline completed");
        Assert.That(report.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo(Report.Trim()));

        // Production: the mapping reads the renamed column, the 12 amounts are the upstream's, the migration is recorded.
        Assert.That(await Rows(Prod, "SELECT source_column FROM load_mappings WHERE target_column = 'amount'"), Is.EqualTo(new[] { "order_total" }));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM fact_orders f JOIN src_orders s USING (order_id) WHERE f.amount IS s.order_total"), Is.EqualTo(new[] { "30" }));
        Assert.That(await Rows(Prod, "SELECT name || ' ' || run_id || ' ' || call_id FROM migrations"), Is.EqualTo(new[] { $"fix_orders_amount_mapping {runId} call_7" }));
        Assert.That(await Rows(Prod, "SELECT sql FROM migrations"), Is.EqualTo(new[] { Migration }));

        // What the model was shown: the three parallel reads, the failing checks of the wrong turn, the promotion.
        var requests = _fake.Requests;
        Assert.That(requests, Has.Count.EqualTo(6), string.Join("\n", requests.Select(r => r.Body)));
        Assert.That(requests[0].Body, Does.Contain(Goal), "the alert's goal");
        var facts = ToolResults(requests[1]);
        Assert.That(facts, Does.Contain("succeeded_with_warnings"), "the runs");
        Assert.That(facts, Does.Contain("column amount is gone; column order_total is new"), "the logs");
        Assert.That(facts, Does.Contain("\"name\":\"order_total\""), "the schema");
        Assert.That(ToolResults(requests[2]), Does.Contain("{\"order_date\":\"2026-12-03\",\"nulls\":6},{\"order_date\":\"2026-12-04\",\"nulls\":6}"));
        Assert.That(ToolResults(requests[3]), Does.Contain("Not ready for production, failing: fact_orders_reconcile_daily_totals (2 violations); load_mappings_match_source (1 violations)"));
        Assert.That(ToolResults(requests[4]), Does.Contain("Every check passes in staging"));
        Assert.That(ToolResults(requests[5]), Does.Contain("Promoted fix_orders_amount_mapping to production as migration 1: 13 rows changed, all 3 checks pass"));

        // The trace of the run, and its cost: five replies of 10 + 5 tokens and the report's 900 + 120,
        // at 150 and 600 per million: 950 * 0.00015 + 145 * 0.0006 = 0.2295.
        var run = await EndedRun(runId);
        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That((run.Trigger, run.Origin?.DeliveryId), Is.EqualTo(((TriggerKind?)TriggerKind.Webhook, "dq-7781")));
        Assert.That(run.Steps.Select(s => string.Join(",", s.ToolCalls.Select(c => c.Tool))), Is.EqualTo(new[]
        {
            "pipeline_runs,pipeline_logs,describe_schema", "query_warehouse", "stage_migration", "stage_migration", "promote_migration", "",
        }));
        Assert.That(run.Steps.SelectMany(s => s.Outcomes).All(o => o.Succeeded), "every call succeeded; the wrong migration is a failed validation, not an error");
        Assert.That(run.Approvals!.Single() is { Tool: "promote_migration", Approved: true }, Is.True);
        Assert.That(run.Usage, Is.EqualTo(new TokenUsage(950, 145)));
        Assert.That(run.TotalCost, Is.EqualTo(0.2295m));
    }

    [Test]
    public async Task Should_leave_production_untouched_when_the_promotion_is_denied()
    {
        _fake.ScriptDiagnosisAndMigrations()
            .ReplyWithAnswer("Incident dq-7781: not fixed. The promotion of fix_orders_amount_mapping was denied; production still has 12 NULL amounts.");

        var runId = await DeliverAlert();
        await Decide(runId, await PendingApproval(runId), approved: false, "not during the month-end close");

        var report = await SlackMessage("Run of data-pipeline completed");
        Assert.That(report.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Does.StartWith("Incident dq-7781: not fixed."));
        Assert.That(_fake.Requests[5].Body, Does.Contain("not during the month-end close"), "the model is told why");
        Assert.That(await Rows(Prod, "SELECT source_column FROM load_mappings WHERE target_column = 'amount'"), Is.EqualTo(new[] { "amount" }));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "12" }));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM migrations"), Is.EqualTo(new[] { "0" }));
        var run = await EndedRun(runId);
        Assert.That(run.Approvals!.Single() is { Tool: "promote_migration", Approved: false }, Is.True);
    }

    [Test]
    public async Task Should_only_read_with_the_offline_model_and_change_nothing()
    {
        var (exit, output, error) = await AgentryRun.RunAsync(new RunOptions(Goal, "data-pipeline", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
                ["Tools:Warehouse:ProdConnectionString"] = Prod,
                ["Tools:Warehouse:StagingConnectionString"] = Staging,
            }, Approvals: new ApprovalChoice(ApprovalMode.Deny, "nobody")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("call     describe_schema {}").And.Contain("\"table\":\"fact_orders\""));
        Assert.That(output, Does.Not.Contain("stage_migration").And.Not.Contain("waits for approval"));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "12" }));
    }

    /// The results of the calls of the step before the request, as the model received them.
    private static string ToolResults(FakeRequest request) => string.Join("\n", request.Messages.EnumerateArray()
        .Reverse().TakeWhile(m => m.GetProperty("role").GetString() == "tool").Reverse()
        .Select(m => m.GetProperty("content") is { ValueKind: JsonValueKind.String } text ? text.GetString() : m.GetProperty("content").ToString()));

    private async Task<Guid> DeliverAlert()
    {
        using var request = SignedAlert("dq-7781");
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
    }

    private async Task<JsonElement> PendingApproval(Guid runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!timeout.IsCancellationRequested)
        {
            var pending = await _http.GetFromJsonAsync<JsonElement>("/approvals");
            if (pending.GetProperty("approvals").EnumerateArray().FirstOrDefault(a => a.GetProperty("runId").GetGuid() == runId) is { ValueKind: JsonValueKind.Object } approval)
            {
                Assert.That(approval.GetProperty("tool").GetString(), Is.EqualTo("promote_migration"));
                return approval;
            }

            await Task.Delay(100);
        }

        throw new AssertionException($"run {runId} never waited for an approval; the model was asked {_fake.RequestCount} times");
    }

    private async Task Decide(Guid runId, JsonElement approval, bool approved, string comment)
    {
        using var decided = await _http.PostAsJsonAsync($"/runs/{runId}/approvals/{approval.GetProperty("callId").GetString()}", new { approved, comment });
        Assert.That(decided.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await decided.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> SlackMessage(string startsWith)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var message in _slackMessages.Reader.ReadAllAsync(timeout.Token))
        {
            if (message.GetProperty("text").GetString()!.StartsWith(startsWith, StringComparison.Ordinal))
            {
                return message;
            }
        }

        throw new AssertionException("no such Slack message");
    }

    /// Memory records the end on its own queue, so it can trail the notification.
    private async Task<RunView> EndedRun(Guid runId)
    {
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(50))
        {
            var run = (await _http.GetFromJsonAsync<RunView>($"/runs/{runId}", JsonSerializerOptions.Web))!;
            if (run.Status is not (RunStatus.Running) || waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                return run;
            }
        }
    }
}
