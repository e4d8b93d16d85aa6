using System.Text.Json;
using Microsoft.Data.Sqlite;
using Agentry.Gateway.Stores.Sqlite;
using static Agentry.Gateway.Stores.Sqlite.SqliteFile;
using Microsoft.Extensions.Options;

namespace Agentry.Gateway.Triggers.Schedules;

/// Schedules in the embedded SQLite file (`agentry serve`), in tables of their own beside the keys.
/// Every write is one IMMEDIATE transaction, so two processes on one file (two `agentry serve`, or
/// two schedulers in a test) still handle each due time once. Times are unix milliseconds.
public sealed class SqliteScheduleStore : IScheduleStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string _connectionString;
    private readonly IOptions<ScheduleOptions> _options;

    public SqliteScheduleStore(string connectionString, IOptions<ScheduleOptions> options)
    {
        _options = options;
        _connectionString = SqliteFile.Open(connectionString,
            """
                CREATE TABLE IF NOT EXISTS schedule_state (
                  agent TEXT NOT NULL, trigger TEXT NOT NULL, watermark INTEGER NOT NULL,
                  paused INTEGER NOT NULL DEFAULT 0, paused_at INTEGER, paused_by TEXT,
                  fired INTEGER NOT NULL DEFAULT 0, missed INTEGER NOT NULL DEFAULT 0,
                  skipped INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, last_fired TEXT,
                  PRIMARY KEY (agent, trigger));
                CREATE TABLE IF NOT EXISTS schedule_claims (
                  agent TEXT NOT NULL, trigger TEXT NOT NULL, due INTEGER NOT NULL,
                  owner TEXT, lease_until INTEGER, handled_at INTEGER,
                  PRIMARY KEY (agent, trigger, due));
                CREATE TABLE IF NOT EXISTS schedule_history (
                  id INTEGER PRIMARY KEY AUTOINCREMENT, agent TEXT NOT NULL, trigger TEXT NOT NULL, entry TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS schedule_history_by_schedule ON schedule_history (agent, trigger, id);
                """);
    }

    public async Task<ScheduleState?> GetAsync(ScheduleId id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadStateAsync(connection, null, id, cancellationToken);
    }

    public async Task<ScheduleState> StartAsync(ScheduleId id, DateTimeOffset from, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var insert = Command(connection, null,
            "INSERT OR IGNORE INTO schedule_state (agent, trigger, watermark) VALUES ($agent, $trigger, $from)",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$from", from.ToUnixTimeMilliseconds())))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return (await ReadStateAsync(connection, null, id, cancellationToken))!;
    }

    public async Task<ClaimOutcome> ClaimAsync(ScheduleId id, DateTimeOffset due, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var found = await ClaimStateAsync(connection, transaction, id, due, owner, now, cancellationToken);
        if (found != ClaimOutcome.Claimed)
        {
            return found;
        }

        await using (var upsert = Command(connection, transaction,
            """
                INSERT INTO schedule_claims (agent, trigger, due, owner, lease_until) VALUES ($agent, $trigger, $due, $owner, $until)
                ON CONFLICT (agent, trigger, due) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
                """,
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$due", due.ToUnixTimeMilliseconds()), ("$owner", owner), ("$until", (now + lease).ToUnixTimeMilliseconds())))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return ClaimOutcome.Claimed;
    }

    public Task<ClaimOutcome> CompleteAsync(ScheduleId id, DateTimeOffset due, string owner, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, due, owner, entry, now, cancellationToken);

    public Task<ClaimOutcome> RecordAsync(ScheduleId id, DateTimeOffset due, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken) =>
        FinishAsync(id, due, "", entry, now, cancellationToken);

    public async Task ReleaseAsync(ScheduleId id, DateTimeOffset due, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var delete = Command(connection, null,
            "DELETE FROM schedule_claims WHERE agent = $agent AND trigger = $trigger AND due = $due AND owner = $owner AND handled_at IS NULL",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$due", due.ToUnixTimeMilliseconds()), ("$owner", owner));
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> SetPausedAsync(ScheduleId id, bool paused, DateTimeOffset at, string by, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var insert = Command(connection, transaction,
            "INSERT OR IGNORE INTO schedule_state (agent, trigger, watermark) VALUES ($agent, $trigger, $at)",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$at", at.ToUnixTimeMilliseconds())))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var update = Command(connection, transaction,
            "UPDATE schedule_state SET paused = $paused, paused_at = $at, paused_by = $by WHERE agent = $agent AND trigger = $trigger AND paused <> $paused",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$paused", paused ? 1 : 0), ("$at", at.ToUnixTimeMilliseconds()), ("$by", by));
        var changed = await update.ExecuteNonQueryAsync(cancellationToken) > 0;
        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    public async Task<IReadOnlyList<ScheduleEntry>> HistoryAsync(ScheduleId id, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var select = Command(connection, null,
            "SELECT entry FROM schedule_history WHERE agent = $agent AND trigger = $trigger ORDER BY id DESC LIMIT $limit",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$limit", limit));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var entries = new List<ScheduleEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(JsonSerializer.Deserialize<ScheduleEntry>(reader.GetString(0), Json)!);
        }

        return entries;
    }

    private async Task<ClaimOutcome> FinishAsync(ScheduleId id, DateTimeOffset due, string owner, ScheduleEntry entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var found = await ClaimStateAsync(connection, transaction, id, due, owner, now, cancellationToken);
        if (found != ClaimOutcome.Claimed)
        {
            return found;
        }

        var json = JsonSerializer.Serialize(entry, Json);
        var counter = RedisScheduleStore.CounterOf(entry.Kind);
        var options = _options.Value;
        var statements = new (string Sql, (string, object?)[] Parameters)[]
        {
            ("""
                INSERT INTO schedule_claims (agent, trigger, due, owner, lease_until, handled_at) VALUES ($agent, $trigger, $due, NULL, NULL, $now)
                ON CONFLICT (agent, trigger, due) DO UPDATE SET owner = NULL, lease_until = NULL, handled_at = $now
                """, [("$due", due.ToUnixTimeMilliseconds()), ("$now", now.ToUnixTimeMilliseconds())]),
            ($"UPDATE schedule_state SET watermark = MAX(watermark, $last), {counter} = {counter} + $count{(entry.Kind == ScheduleEntryKind.Fired ? ", last_fired = $entry" : "")} WHERE agent = $agent AND trigger = $trigger",
                [("$last", entry.Last.ToUnixTimeMilliseconds()), ("$count", entry.Count), ("$entry", json)]),
            ("INSERT INTO schedule_history (agent, trigger, entry) VALUES ($agent, $trigger, $entry)", [("$entry", json)]),
            // The history keeps its newest entries; claims are kept as long as a lagging replica could ask.
            ("DELETE FROM schedule_history WHERE agent = $agent AND trigger = $trigger AND id NOT IN (SELECT id FROM schedule_history WHERE agent = $agent AND trigger = $trigger ORDER BY id DESC LIMIT $limit)",
                [("$limit", options.HistoryLimit)]),
            ("DELETE FROM schedule_claims WHERE agent = $agent AND trigger = $trigger AND handled_at < $cutoff",
                [("$cutoff", (now - options.ClaimRetention).ToUnixTimeMilliseconds())]),
        };
        foreach (var (sql, parameters) in statements)
        {
            await using var command = Command(connection, transaction, sql, [("$agent", id.Agent), ("$trigger", id.Trigger), .. parameters]);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return ClaimOutcome.Claimed;
    }

    /// Claimed: the due time is free, its lease ran out, or it is this owner's.
    private static async Task<ClaimOutcome> ClaimStateAsync(SqliteConnection connection, SqliteTransaction transaction, ScheduleId id, DateTimeOffset due, string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction,
            "SELECT owner, lease_until, handled_at FROM schedule_claims WHERE agent = $agent AND trigger = $trigger AND due = $due",
            ("$agent", id.Agent), ("$trigger", id.Trigger), ("$due", due.ToUnixTimeMilliseconds()));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return ClaimOutcome.Claimed;
        }

        if (!reader.IsDBNull(2))
        {
            return ClaimOutcome.Done;
        }

        return reader.GetString(0) != owner && reader.GetInt64(1) > now.ToUnixTimeMilliseconds() ? ClaimOutcome.Held : ClaimOutcome.Claimed;
    }

    private static async Task<ScheduleState?> ReadStateAsync(SqliteConnection connection, SqliteTransaction? transaction, ScheduleId id, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction,
            "SELECT watermark, paused, paused_at, paused_by, fired, missed, skipped, refused, last_fired FROM schedule_state WHERE agent = $agent AND trigger = $trigger",
            ("$agent", id.Agent), ("$trigger", id.Trigger));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var paused = reader.GetInt64(1) == 1;
        return new ScheduleState(
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
            paused,
            paused && !reader.IsDBNull(2) ? DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)) : null,
            paused && !reader.IsDBNull(3) ? reader.GetString(3) : null,
            reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7),
            reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<ScheduleEntry>(reader.GetString(8), Json));
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
