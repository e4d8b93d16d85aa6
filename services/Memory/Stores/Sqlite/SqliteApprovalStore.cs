using System.Globalization;
using Agentry.Contracts;
using Microsoft.Data.Sqlite;
using static Agentry.Memory.SqliteMemoryDatabase;

namespace Agentry.Memory;

/// Approvals in the embedded database: one row per call that needed approval, keyed by run and call.
/// A row may be created by its decision first (requested_at null) and is completed by the request;
/// it is shown only once requested. Pending calls are listed only for runs still running (a join on runs).
public sealed class SqliteApprovalStore(SqliteMemoryDatabase database) : IApprovalStore
{
    /// The database it keeps them in, shared with the other SQLite stores.
    public SqliteMemoryDatabase Database => database;

    private const string ApprovalColumns = "run_id, tenant_id, agent, step, call_id, tool, arguments, requested_at, expires_at, approved, decided_by, comment, decided_at, assignee, assigned_by, assigned_at";

    public async Task RecordApprovalRequestedAsync(ApprovalRequested request, DateTimeOffset at, CancellationToken cancellationToken)
    {
        foreach (var call in request.Calls)
        {
            await database.ExecuteAsync(
                """
                INSERT INTO approvals (run_id, call_id, tenant_id, agent, step, tool, arguments, requested_at, expires_at)
                VALUES ($run, $call, $tenant, $agent, $step, $tool, $args, $at, $expires)
                ON CONFLICT (run_id, call_id) DO UPDATE SET
                  agent = excluded.agent, step = excluded.step, tool = excluded.tool, arguments = excluded.arguments,
                  requested_at = coalesce(approvals.requested_at, excluded.requested_at), expires_at = excluded.expires_at
                """,
                cancellationToken,
                ("$run", request.RunId.ToString()), ("$call", call.CallId), ("$tenant", request.TenantId), ("$agent", request.Agent),
                ("$step", request.Step), ("$tool", call.Tool), ("$args", call.Arguments.GetRawText()),
                ("$at", Timestamp(at)), ("$expires", Timestamp(request.ExpiresAt)));
        }
    }

    public Task RecordApprovalDecidedAsync(ApprovalDecided decision, DateTimeOffset at, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            INSERT INTO approvals (run_id, call_id, tenant_id, step, approved, decided_by, comment, decided_at)
            VALUES ($run, $call, $tenant, $step, $approved, $by, $comment, $at)
            ON CONFLICT (run_id, call_id) DO UPDATE SET
              approved = excluded.approved, decided_by = excluded.decided_by, comment = excluded.comment, decided_at = excluded.decided_at
            WHERE approvals.approved IS NULL
            """,
            cancellationToken,
            ("$run", decision.RunId.ToString()), ("$call", decision.CallId), ("$tenant", decision.TenantId), ("$step", decision.Step),
            ("$approved", decision.Approved ? 1 : 0), ("$by", decision.DecidedBy), ("$comment", decision.Comment), ("$at", Timestamp(at)));

    // The Gateway assigns only a call it read from here, so the row exists: nothing to insert.
    public Task RecordApprovalAssignedAsync(ApprovalAssigned assignment, CancellationToken cancellationToken) =>
        database.ExecuteAsync(
            """
            UPDATE approvals SET assignee = $assignee, assigned_by = $by, assigned_at = $at
            WHERE run_id = $run AND call_id = $call AND tenant_id = $tenant AND approved IS NULL AND requested_at IS NOT NULL
              AND (assigned_at IS NULL OR assigned_at <= $at)
            """,
            cancellationToken,
            ("$run", assignment.RunId.ToString()), ("$call", assignment.CallId), ("$tenant", assignment.TenantId),
            ("$assignee", assignment.Assignee), ("$by", assignment.AssignedBy), ("$at", Timestamp(assignment.AssignedAt)));

    public async Task<IReadOnlyList<ApprovalView>> PendingApprovalsAsync(string tenantId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"""
            SELECT {string.Join(", ", ApprovalColumns.Split(", ").Select(c => "a." + c))} FROM approvals a JOIN runs r ON r.run_id = a.run_id
            WHERE a.tenant_id = $tenant AND a.approved IS NULL AND a.requested_at IS NOT NULL AND r.status = '{nameof(RunStatus.Running)}'
            ORDER BY a.requested_at, a.run_id, a.call_id
            """,
            ("$tenant", tenantId));
        return await ReadApprovalsAsync(command, cancellationToken);
    }

    /// The run's requested calls, for its transcript (SqliteTranscriptStore), on the connection it reads with.
    internal static async Task<IReadOnlyList<ApprovalView>> OfRunAsync(SqliteConnection connection, string runId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            $"SELECT {ApprovalColumns} FROM approvals WHERE run_id = $run AND requested_at IS NOT NULL ORDER BY step, requested_at, call_id",
            ("$run", runId));
        return await ReadApprovalsAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<ApprovalView>> ReadApprovalsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var approvals = new List<ApprovalView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            approvals.Add(new ApprovalView(
                Guid.Parse(reader.GetString(0)),
                reader.GetString(1),
                NullableString(reader, 2) ?? "",
                reader.GetInt32(3),
                reader.GetString(4),
                reader.GetString(5),
                ParseJson(reader.GetString(6)),
                ParseTimestamp(reader.GetString(7)),
                ParseTimestamp(reader.GetString(8)),
                reader.IsDBNull(9) ? null : reader.GetInt32(9) == 1,
                NullableString(reader, 10),
                NullableString(reader, 11),
                reader.IsDBNull(12) ? null : ParseTimestamp(reader.GetString(12)),
                NullableString(reader, 13),
                NullableString(reader, 14),
                reader.IsDBNull(15) ? null : ParseTimestamp(reader.GetString(15))));
        }

        return approvals;
    }

    private static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
