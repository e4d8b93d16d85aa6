using System.Globalization;
using System.Text.Json;
using Agentry.Gateway.Triggers.Webhooks;
using Microsoft.Data.Sqlite;
using static Agentry.Gateway.Stores.Sqlite.SqliteFile;

namespace Agentry.Gateway.Stores.Sqlite;

/// The webhook inbox in the embedded SQLite file, beside the keys. A partial unique index over the
/// verified deliveries makes "recorded once per agent, trigger and delivery id" the database's
/// rule, so that two Gateway replicas on one file cannot both take the same delivery.
public sealed class SqliteWebhookInbox : IWebhookInbox
{
    private const string Columns = "id, tenant_id, agent, trigger_name, source, delivery_id, received_at, headers, body, state, run_id, reason, duplicates, settled_at";

    private readonly string _connectionString;

    public SqliteWebhookInbox(string connectionString)
    {
        _connectionString = SqliteFile.Open(connectionString,
            """
                CREATE TABLE IF NOT EXISTS webhook_deliveries (
                  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, agent TEXT NOT NULL, trigger_name TEXT NOT NULL, source TEXT NOT NULL,
                  delivery_id TEXT NOT NULL, verified INTEGER NOT NULL, received_at TEXT NOT NULL, headers TEXT NOT NULL, body TEXT,
                  state TEXT NOT NULL, run_id TEXT, reason TEXT, duplicates INTEGER NOT NULL DEFAULT 0, settled_at TEXT);
                CREATE UNIQUE INDEX IF NOT EXISTS webhook_deliveries_once ON webhook_deliveries (agent, trigger_name, delivery_id) WHERE verified = 1;
                CREATE INDEX IF NOT EXISTS webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, received_at);
                """);
    }

    public async Task<(WebhookDelivery Delivery, bool New)> ReceiveAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // IMMEDIATE: the insert, or the count and read of the one there, as one step.
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var insert = Insert(connection, delivery, verified: true, "ON CONFLICT (agent, trigger_name, delivery_id) WHERE verified = 1 DO NOTHING"))
        {
            insert.Transaction = transaction;
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await transaction.CommitAsync(cancellationToken);
                return (delivery, true);
            }
        }

        const string Same = "agent = $agent AND trigger_name = $trigger AND delivery_id = $delivery AND verified = 1";
        (string, object?)[] key = [("$agent", delivery.Agent), ("$trigger", delivery.Trigger), ("$delivery", delivery.DeliveryId)];
        await using (var count = Command(connection, $"UPDATE webhook_deliveries SET duplicates = duplicates + 1 WHERE {Same}", key))
        {
            count.Transaction = transaction;
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var read = Command(connection, $"SELECT {Columns} FROM webhook_deliveries WHERE {Same}", key);
        read.Transaction = transaction;
        var existing = (await ReadAsync(read, cancellationToken)).Single();
        await transaction.CommitAsync(cancellationToken);
        return (existing, false);
    }

    public async Task RecordUnverifiedAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var insert = Insert(connection, delivery with { Body = null, State = WebhookDeliveryState.Unverified }, verified: false, "");
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> ReopenAsync(Guid id, IReadOnlyCollection<WebhookDeliveryState> from, CancellationToken cancellationToken)
    {
        if (from.Count == 0)
        {
            return false;
        }

        await using var connection = await OpenAsync(cancellationToken);
        var states = from.Select((state, i) => ($"$s{i}", (object?)state.ToString())).ToArray();
        await using var command = Command(connection,
            $"UPDATE webhook_deliveries SET state = 'Received', settled_at = NULL WHERE id = $id AND verified = 1 AND state IN ({string.Join(", ", states.Select(s => s.Item1))})",
            [("$id", id.ToString()), .. states]);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task SettleAsync(Guid id, WebhookDeliveryState state, Guid? runId, string? reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "UPDATE webhook_deliveries SET state = $state, run_id = $run, reason = $reason, settled_at = $at WHERE id = $id",
            ("$id", id.ToString()), ("$state", state.ToString()), ("$run", runId?.ToString()), ("$reason", reason), ("$at", Timestamp(at)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<WebhookDelivery?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {Columns} FROM webhook_deliveries WHERE id = $id", ("$id", id.ToString()));
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListAsync(string tenantId, string? agent, string? trigger, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"""
                SELECT {Columns} FROM webhook_deliveries
                WHERE tenant_id = $tenant AND ($agent IS NULL OR agent = $agent) AND ($trigger IS NULL OR trigger_name = $trigger)
                ORDER BY received_at DESC, rowid DESC LIMIT $limit
                """,
            ("$tenant", tenantId), ("$agent", agent), ("$trigger", trigger), ("$limit", limit));
        return await ReadAsync(command, cancellationToken);
    }

    private static SqliteCommand Insert(SqliteConnection connection, WebhookDelivery d, bool verified, string onConflict) =>
        Command(connection,
            $"""
                INSERT INTO webhook_deliveries ({Columns}, verified)
                VALUES ($id, $tenant, $agent, $trigger, $source, $delivery, $received, $headers, $body, $state, $run, $reason, $duplicates, $settled, $verified)
                {onConflict}
                """,
            ("$id", d.Id.ToString()), ("$tenant", d.TenantId), ("$agent", d.Agent), ("$trigger", d.Trigger), ("$source", d.Source), ("$delivery", d.DeliveryId),
            ("$received", Timestamp(d.ReceivedAt)), ("$headers", JsonSerializer.Serialize(d.Headers)), ("$body", d.Body), ("$state", d.State.ToString()),
            ("$run", d.RunId?.ToString()), ("$reason", d.Reason), ("$duplicates", d.Duplicates), ("$settled", d.SettledAt is { } settled ? Timestamp(settled) : null),
            ("$verified", verified ? 1 : 0));

    private static async Task<IReadOnlyList<WebhookDelivery>> ReadAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var deliveries = new List<WebhookDelivery>();
        while (await reader.ReadAsync(cancellationToken))
        {
            deliveries.Add(new WebhookDelivery(
                Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                ParseTime(reader.GetString(6)), new Dictionary<string, string>(JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(7)) ?? [], StringComparer.OrdinalIgnoreCase),
                reader.IsDBNull(8) ? null : reader.GetString(8), Enum.Parse<WebhookDeliveryState>(reader.GetString(9)),
                reader.IsDBNull(10) ? null : Guid.Parse(reader.GetString(10)), reader.IsDBNull(11) ? null : reader.GetString(11),
                reader.GetInt32(12), reader.IsDBNull(13) ? null : ParseTime(reader.GetString(13))));
        }

        return deliveries;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
