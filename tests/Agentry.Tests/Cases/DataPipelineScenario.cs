using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.Cases;

/// What the data-pipeline case's tests share (docs/cases/data-pipeline.md): the monitor's signed
/// alert, the shipped agent with the test's Slack capture as its channel, the scripted diagnosis and
/// the migrations, and reads of the warehouse.
public static class DataPipelineScenario
{
    public const string Secret = "a-data-quality-monitor-signing-secret";

    public const string AlertBody = """{"event":"check.failed","alert":{"id":"dq-7781","check":"fact_orders_amount_not_null","table":"fact_orders","severity":"high","summary":"12 of 30 rows have a NULL amount (order dates 2026-12-03 and 2026-12-04)."}}""";

    public const string Goal = "Data-quality alert dq-7781 (high): check fact_orders_amount_not_null failed on fact_orders. 12 of 30 rows have a NULL amount (order dates 2026-12-03 and 2026-12-04).";

    /// Hides the NULLs instead of loading the real amounts, and leaves the mapping broken.
    public const string WrongMigration = "UPDATE fact_orders SET amount = 0 WHERE amount IS NULL;";

    public const string Migration = """
        UPDATE load_mappings SET source_column = 'order_total' WHERE pipeline = 'orders_daily' AND target_column = 'amount';
        UPDATE fact_orders SET amount = (SELECT s.order_total FROM src_orders s WHERE s.order_id = fact_orders.order_id) WHERE amount IS NULL;
        """;

    public const string Report = """
        Incident dq-7781: NULL amounts in fact_orders, fixed
        Impact: 12 orders of 2026-12-03 and 2026-12-04 had no amount in fact_orders.
        Root cause: the upstream shop database renamed src_orders.amount to order_total; the orders_daily load maps by name and loaded NULL.
        Fix: migration fix_orders_amount_mapping maps amount from order_total and backfills the 12 rows from src_orders; all 3 checks pass in production.
        Prevention: fail the load when a mapped source column is missing instead of loading NULL, and subscribe to the upstream's schema changes.
        """;

    /// The shipped agent, with the test's Slack capture as the channel its report goes to.
    public static string WriteAgent(string folder, string shippedAgents, Uri slack)
    {
        var agents = Directory.CreateDirectory(Path.Combine(folder, "agents")).FullName;
        var shipped = File.ReadAllText(Path.Combine(shippedAgents, "data-pipeline.yaml"));
        File.WriteAllText(Path.Combine(agents, "data-pipeline.yaml"), $"{shipped}notify:\n  slack: {slack}\n");
        return agents;
    }

    /// The monitor's delivery: hex HMAC-SHA256 of "timestamp.body" under the shared secret.
    public static HttpRequestMessage SignedAlert(string deliveryId, string body = AlertBody, string secret = Secret)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/data-pipeline/data-quality-alert") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Alert-Id", deliveryId);
        request.Headers.Add("X-Signature-Timestamp", timestamp);
        request.Headers.Add("X-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"))));
        return request;
    }

    /// The facts in parallel, a measurement, a wrong migration and its correction in staging, then
    /// the promotion, which waits for a person.
    public static OpenAiFake ScriptDiagnosisAndMigrations(this OpenAiFake fake) => fake
        .ReplyWithToolCalls(
            new FakeToolCall("call_1", "tools-pipeline_runs", """{"pipeline":"orders_daily","limit":5}"""),
            new FakeToolCall("call_2", "tools-pipeline_logs", """{"pipeline":"orders_daily","min_level":"WARN"}"""),
            new FakeToolCall("call_3", "tools-describe_schema", """{"tables":["src_orders","fact_orders","load_mappings"]}"""))
        .ReplyWithToolCalls(new FakeToolCall("call_4", "tools-query_warehouse",
            """{"sql":"SELECT order_date, count(*) AS nulls FROM fact_orders WHERE amount IS NULL GROUP BY order_date ORDER BY order_date"}"""))
        .ReplyWithToolCalls(new FakeToolCall("call_5", "tools-stage_migration", Arguments("zero_null_amounts", WrongMigration)))
        .ReplyWithToolCalls(new FakeToolCall("call_6", "tools-stage_migration", Arguments("fix_orders_amount_mapping", Migration)))
        .ReplyWithToolCalls(new FakeToolCall("call_7", "tools-promote_migration", Arguments("fix_orders_amount_mapping", Migration)));

    public static string Arguments(string name, string sql) => System.Text.Json.JsonSerializer.Serialize(new { name, sql });

    public static async Task<List<string>> Rows(string connectionString, string sql)
    {
        await using var db = new SqliteConnection(connectionString);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
