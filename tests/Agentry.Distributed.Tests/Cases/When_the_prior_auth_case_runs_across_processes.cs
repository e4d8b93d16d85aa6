using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Events;
using Agentry.Tests;
using Agentry.Tests.Cases;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;
using RabbitMQ.Client;
using static Agentry.Tests.Cases.PriorAuthScenario;

namespace Agentry.Distributed.Tests.Cases;

/// Case 4 of the six (docs/cases/prior-auth.md) with every service a process of its own over
/// RabbitMQ: the EHR publishes the new prescription on its own exchange as a plain AMQP client
/// (twice: one run), the scripted model reads the chart and the payer's criteria (ingested with the
/// CLI) in parallel, the payer's schema refuses its first form, a clinician approves the corrected
/// one through the Gateway, and the Tools process submits it to the payer's portal.
[NonParallelizable]
public sealed class When_the_prior_auth_case_runs_across_processes
{
    private const string Agent = "prior-auth";
    private const string Trigger = "new-prescription";

    [Test]
    public async Task Should_submit_the_pa_for_the_ehrs_event_once_a_clinician_approves_over_http()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-prior-auth", Guid.NewGuid().ToString("N"))).FullName;
        var records = $"Data Source={Path.Combine(folder, "prior-auth.db")};Pooling=False";
        using var fake = OpenAiFake.Start();
        fake.ScriptUpToTheSubmission().ReplyWithAnswer("Submitted RX-200117 as PA-000001.");
        try
        {
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Tools__PriorAuth__ConnectionString"] = records,
                ["Llm__DefaultProvider"] = "scripted",
                ["Llm__Providers__scripted__Kind"] = "openai-compatible",
                ["Llm__Providers__scripted__Endpoint"] = fake.BaseUrl.ToString(),
                ["Llm__Providers__scripted__MaxRetries"] = "0",
                // The response cache lives in the shared Redis and outlives a test: an earlier run of
                // this test would answer from it instead of the script.
                ["Llm__Cache__KeyPrefix"] = $"agentry-test:{Guid.NewGuid():N}:llm-cache:",
            });
            var (ingested, output) = await IngestCriteriaAsync(deployment);
            Assert.That(ingested, Is.EqualTo(0), output);
            await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
            using var gateway = await deployment.GatewayClientAsync();

            // The EHR's integration engine: its own connection, its own exchange, its own JSON.
            await using var ehr = await new ConnectionFactory { Uri = new Uri(deployment.AmqpUrl) }.CreateConnectionAsync();
            await using var channel = await ehr.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: true, autoDelete: false);
            var queue = EventSubscriptions.QueueOf(Agent, Trigger);
            await Eventually.Until(async () => await ConsumersOnAsync(ehr, queue) > 0 ? queue : null, $"the Gateway consuming {queue}{Environment.NewLine}{deployment.Logs}");

            // MassTransit reads an AMQP message-id only when it is a UUID; any other id would leave the
            // event to be named by its content, the same in every run of this test.
            var eventId = Guid.NewGuid().ToString();
            var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, MessageId = eventId };
            await channel.BasicPublishAsync(Exchange, RoutingKey, mandatory: false, properties, Encoding.UTF8.GetBytes(Event));
            await channel.BasicPublishAsync(Exchange, RoutingKey, mandatory: false, properties, Encoding.UTF8.GetBytes(Event));
            var runId = TriggeredRuns.RunIdOf(Agent, Trigger, eventId);

            var callId = await PendingApprovalAsync(gateway, deployment, runId);
            Assert.That(await Rows(records, "SELECT count(*) FROM pa_submissions"), Is.EqualTo(new[] { "0" }), "nothing reaches the payer before the clinician decides");
            using var decided = await gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = true, comment = "criteria checked against the chart" });
            Assert.That((int)decided.StatusCode, Is.EqualTo(202), await decided.Content.ReadAsStringAsync());

            var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(90), () => deployment.Logs);
            Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
            Assert.That(message.GetProperty("answer").GetString(), Is.EqualTo("Submitted RX-200117 as PA-000001."));
            Assert.That(await Rows(records, "SELECT submission_id || ' ' || prescription_id || ' ' || policy || ' ' || status || ' ' || run_id FROM pa_submissions"),
                Is.EqualTo(new[] { $"PA-000001 RX-200117 glp1-agonists pending_review {runId}" }));
            Assert.That(await Rows(records, "SELECT justification FROM pa_submissions"), Is.EqualTo(new[] { Justification }));
            Assert.That(await Rows(records, "SELECT doc_id FROM pa_attachments ORDER BY doc_id"), Is.EqualTo(new[] { "DOC-0101", "DOC-0102", "DOC-0103" }));
            Assert.That(fake.Requests[0].Body, Does.Contain(Goal), "the event's goal reached the model");
            Assert.That(fake.Requests[1].Body, Does.Contain("Avery Testpatient").And.Contain("GLP1-3"), "the chart and the ingested criteria");
            Assert.That(fake.Requests[3].Body, Does.Contain("Invalid arguments for payer_submit_pa: /form/attachments"), "the schema's refusal reached the model");

            var run = await Eventually.RunAsync(gateway, runId, r => r.Status == RunStatus.Completed, "the completed run");
            Assert.That(run.Trigger, Is.EqualTo(TriggerKind.Event));
            Assert.That(run.Origin, Is.EqualTo(new TriggerOrigin(Trigger, $"{Exchange} {RoutingKey}", eventId)));
            Assert.That(run.Steps.Select(s => string.Join(",", s.ToolCalls.Select(c => c.Tool))), Is.EqualTo(new[]
            {
                "ehr_patient_chart,search_knowledge", "payer_eligibility", "payer_submit_pa", "",
            }), "one run for the event published twice");
            Assert.That(run.Approvals!.Single() is { Tool: "payer_submit_pa", Approved: true }, Is.True);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<(int ExitCode, string Output)> IngestCriteriaAsync(Deployment deployment) =>
        AgentryCli.RunAsync(
            ["kb", "ingest", "payer-criteria", Path.Combine(Repository.Root, "samples", "prior-auth", "criteria")],
            new Dictionary<string, string> { ["ConnectionStrings__sqlite"] = deployment.Environment["ConnectionStrings__sqlite"] });

    private static async Task<List<string>> Rows(string connectionString, string sql) =>
        File.Exists(new SqliteConnectionStringBuilder(connectionString).DataSource) ? await PriorAuthScenario.Rows(connectionString, sql) : [];

    private static async Task<uint> ConsumersOnAsync(IConnection connection, string queue)
    {
        try
        {
            await using var channel = await connection.CreateChannelAsync();
            return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
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
                    Assert.That(approval.GetProperty("tool").GetString(), Is.EqualTo("payer_submit_pa"));
                    Assert.That(approval.GetProperty("arguments").GetProperty("form").GetProperty("attachments").GetArrayLength(), Is.EqualTo(3), "the clinician sees the corrected form");
                    return approval.GetProperty("callId").GetString()!;
                }
            }
        }

        Assert.Fail($"run {runId} never waited for an approval{Environment.NewLine}{await deployment.DescribeAsync()}{Environment.NewLine}{deployment.Logs}");
        return "";
    }
}
