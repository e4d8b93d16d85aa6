using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Tests;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Distributed.Tests.Cases;

/// Case 1 of the six (docs/cases/customer-support.md) with every service a process of its own over
/// RabbitMQ: a signed Zendesk webhook reaches the Gateway, the scripted model (the OpenAI-compatible
/// fake, over HTTP from the Planner's and the Evaluator's processes) looks the order and the parcel
/// up in parallel, a person approves the refund through the Gateway, the agent answers on the ticket.
[NonParallelizable]
public sealed class When_the_customer_support_case_runs_across_processes
{
    private const string Secret = "a-zendesk-signing-secret-for-the-distributed-test";

    [Test]
    public async Task Should_refund_after_approval_over_http_and_reply_on_the_ticket()
    {
        var orders = Path.Combine(Path.GetTempPath(), $"agentry-orders-{Guid.NewGuid():N}.db");
        using var fake = OpenAiFake.Start();
        fake.ReplyWithToolCalls(
                new FakeToolCall("call_1", "tools-lookup_order", """{"order_id":"1042"}"""),
                new FakeToolCall("call_2", "tools-track_shipment", """{"order_id":"1042"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_3", "tools-refund_order", """{"order_id":"1042","reason":"Arrived broken"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_4", "tools-reply_to_ticket", """{"ticket_id":"35436","message":"Your refund of 249.99 EUR is on its way."}"""))
            .ReplyWithAnswer("Refunded order 1042 and answered ticket 35436.")
            .Enqueue(FakeReply.Answer("""{"verdict": "complete", "confidence": 0.9, "reason": "Refunded and answered."}"""));
        try
        {
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Tools__Orders__ConnectionString"] = $"Data Source={orders}",
                ["Triggers__Secrets__zendesk_support"] = Secret,
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
            using var zendesk = new HttpClient { BaseAddress = deployment.Get("Gateway").BaseAddress };

            var delivery = Guid.NewGuid().ToString();
            const string body = """{"type":"ticket.created","ticket":{"id":35436,"subject":"Broken headphones","description":"Order 1042 arrived broken. I want my money back."}}""";
            var timestamp = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/customer-support/new-ticket") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Zendesk-Webhook-Invocation-Id", delivery);
            request.Headers.Add("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
            request.Headers.Add("X-Zendesk-Webhook-Signature", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + body))));
            using var accepted = await zendesk.SendAsync(request);
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await accepted.Content.ReadAsStringAsync() + deployment.Logs);
            var runId = TriggeredRuns.RunIdOf("customer-support", "new-ticket", delivery);

            var callId = await PendingApprovalAsync(gateway, deployment, runId);
            Assert.That(await Refunds(orders), Is.Empty, "nothing is refunded before the person decides");
            using var decided = await gateway.PostAsJsonAsync($"/runs/{runId}/approvals/{callId}", new { approved = true, by = "alice", comment = "photo shows the damage" });
            Assert.That((int)decided.StatusCode, Is.EqualTo(202), await decided.Content.ReadAsStringAsync());

            var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(90), () => deployment.Logs);
            Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
            Assert.That(message.GetProperty("answer").GetString(), Is.EqualTo("Refunded order 1042 and answered ticket 35436."));
            Assert.That(await Refunds(orders), Is.EqualTo(new[] { "1042 249.99 Arrived broken" }));
            Assert.That(await Rows(orders, "SELECT ticket_id || ': ' || message FROM ticket_replies"), Is.EqualTo(new[] { "35436: Your refund of 249.99 EUR is on its way." }));
            Assert.That(fake.Requests[0].Body, Does.Contain("Zendesk ticket #35436: Broken headphones"), "the trigger's goal reached the model");
            Assert.That(fake.Requests[1].Body, Does.Contain("Grace Hopper").And.Contain("Delivered 2026-11-15"), "both parallel results reached the model");

            var run = await Eventually.RunAsync(gateway, runId, r => r.Status == RunStatus.Completed, "the completed run");
            Assert.That((run.Trigger, run.Origin?.DeliveryId), Is.EqualTo(((TriggerKind?)TriggerKind.Webhook, delivery)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(orders);
        }
    }

    private static Task<List<string>> Refunds(string orders) => Rows(orders, "SELECT order_id || ' ' || amount || ' ' || reason FROM refunds");

    private static async Task<List<string>> Rows(string orders, string sql)
    {
        var rows = new List<string>();
        if (!File.Exists(orders))
        {
            return rows;
        }

        await using var db = new SqliteConnection($"Data Source={orders};Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
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
                    Assert.That(approval.GetProperty("tool").GetString(), Is.EqualTo("refund_order"));
                    return approval.GetProperty("callId").GetString()!;
                }
            }
        }

        Assert.Fail($"run {runId} never waited for an approval{Environment.NewLine}{await deployment.DescribeAsync()}{Environment.NewLine}{deployment.Logs}");
        return "";
    }
}
