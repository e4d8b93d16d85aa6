using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Tests;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Agentry.Tests.Cases;
using static Agentry.Tests.Cases.DataPipelineScenario;

namespace Agentry.Distributed.Tests.Cases;

/// Case 6 of the six (docs/cases/data-pipeline.md) with every service a process of its own over
/// RabbitMQ: the monitor's signed alert reaches the Gateway, the scripted model (over HTTP from the
/// Planner's process) reads runs, logs and schema in parallel, a wrong migration fails the checks in
/// staging and the corrected one passes, a person approves the promotion through the Gateway, the
/// Tools process changes production, and the Notifier posts the incident report to Slack.
[NonParallelizable]
public sealed class When_the_data_pipeline_case_runs_across_processes
{
    [Test]
    public async Task Should_promote_the_fix_after_approval_over_http_and_post_the_report_to_slack()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-data-pipeline", Guid.NewGuid().ToString("N"))).FullName;
        var prod = $"Data Source={Path.Combine(folder, "warehouse.db")};Pooling=False";
        var staging = $"Data Source={Path.Combine(folder, "warehouse-staging.db")};Pooling=False";
        var slackMessages = Channel.CreateUnbounded<JsonElement>();
        var (slack, slackBase) = await LocalHttpServer.StartAsync(app => app.MapPost("/slack", async (HttpRequest request) =>
        {
            await slackMessages.Writer.WriteAsync((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Text("ok");
        }));
        using var fake = OpenAiFake.Start();
        fake.ScriptDiagnosisAndMigrations().ReplyWithAnswer(Report);
        try
        {
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Agents__Path"] = WriteAgent(folder, Path.Combine(Repository.Root, "agents"), new Uri(slackBase, "/slack")),
                ["Tools__Warehouse__ProdConnectionString"] = prod,
                ["Tools__Warehouse__StagingConnectionString"] = staging,
                ["Triggers__Secrets__data_quality_alerts"] = Secret,
                ["Llm__DefaultProvider"] = "scripted",
                ["Llm__Providers__scripted__Kind"] = "openai-compatible",
                ["Llm__Providers__scripted__Endpoint"] = fake.BaseUrl.ToString(),
                ["Llm__Providers__scripted__MaxRetries"] = "0",
                // The response cache lives in the shared Redis and outlives a test: an earlier run of
                // this test would answer from it instead of the script.
                ["Llm__Cache__KeyPrefix"] = $"agentry-test:{Guid.NewGuid():N}:llm-cache:",
            });
            await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
            using var gateway = await deployment.GatewayClientAsync();
            using var monitor = new HttpClient { BaseAddress = deployment.Get("Gateway").BaseAddress };

            var delivery = $"dq-{Guid.NewGuid():N}";
            using var accepted = await monitor.SendAsync(SignedAlert(delivery));
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await accepted.Content.ReadAsStringAsync() + deployment.Logs);
            var runId = TriggeredRuns.RunIdOf("data-pipeline", "data-quality-alert", delivery);

            // A delivery signed with another secret starts nothing.
            using var forged = await monitor.SendAsync(SignedAlert($"dq-{Guid.NewGuid():N}", secret: "not-the-monitor's-secret"));
            Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

            var callId = await PendingApprovalAsync(gateway, deployment, runId);
            Assert.That(await Rows(prod, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "12" }), "production waits for the person");
            Assert.That(await Rows(staging, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "0" }), "staging holds the fix");
            using var decided = await gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = true, comment = "backfill matches the control totals" });
            Assert.That((int)decided.StatusCode, Is.EqualTo(202), await decided.Content.ReadAsStringAsync());

            var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(90), () => deployment.Logs);
            Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
            Assert.That(await Rows(prod, "SELECT source_column FROM load_mappings WHERE target_column = 'amount'"), Is.EqualTo(new[] { "order_total" }));
            Assert.That(await Rows(prod, "SELECT count(*) FROM fact_orders f JOIN src_orders s USING (order_id) WHERE f.amount IS s.order_total"), Is.EqualTo(new[] { "30" }));
            Assert.That(await Rows(prod, "SELECT name || ' ' || run_id FROM migrations"), Is.EqualTo(new[] { $"fix_orders_amount_mapping {runId}" }));
            Assert.That(fake.Requests[3].Body, Does.Contain("fact_orders_reconcile_daily_totals (2 violations)"), "the wrong turn's failing checks reached the model");

            var report = await SlackMessageAsync(slackMessages, "Run of data-pipeline completed", deployment);
            Assert.That(report.GetProperty("blocks")[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo(Report.Trim()));

            var run = await Eventually.RunAsync(gateway, runId, r => r.Status == RunStatus.Completed, "the completed run");
            Assert.That((run.Trigger, run.Origin?.DeliveryId), Is.EqualTo(((TriggerKind?)TriggerKind.Webhook, delivery)));
            Assert.That(run.Steps.Select(s => s.ToolCalls.Count), Is.EqualTo(new[] { 3, 1, 1, 1, 1, 0 }));
        }
        finally
        {
            await slack.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<List<string>> Rows(string connectionString, string sql) =>
        File.Exists(new SqliteConnectionStringBuilder(connectionString).DataSource) ? await DataPipelineScenario.Rows(connectionString, sql) : [];

    private static async Task<JsonElement> SlackMessageAsync(Channel<JsonElement> messages, string startsWith, Deployment deployment)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await foreach (var message in messages.Reader.ReadAllAsync(timeout.Token))
            {
                if (message.GetProperty("text").GetString()!.StartsWith(startsWith, StringComparison.Ordinal))
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Fail($"no Slack message starting '{startsWith}'{Environment.NewLine}{deployment.Logs}");
        return default;
    }

    private static async Task<string> PendingApprovalAsync(HttpClient gateway, Deployment deployment, Guid runId)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(90); await Task.Delay(200))
        {
            var pending = await gateway.GetFromJsonAsync<JsonElement>("/approvals");
            foreach (var approval in pending.GetProperty("approvals").EnumerateArray())
            {
                if (approval.GetProperty("runId").GetGuid() == runId)
                {
                    Assert.That(approval.GetProperty("tool").GetString(), Is.EqualTo("promote_migration"));
                    Assert.That(approval.GetProperty("arguments").GetProperty("sql").GetString(), Is.EqualTo(Migration));
                    return approval.GetProperty("callId").GetString()!;
                }
            }
        }

        Assert.Fail($"run {runId} never waited for an approval{Environment.NewLine}{await deployment.DescribeAsync()}{Environment.NewLine}{deployment.Logs}");
        return "";
    }
}
