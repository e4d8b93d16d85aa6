using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.OrderDesk;

public sealed class LookupOrderTool(OrderDesk desk) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("lookup_order", "Looks up a customer order by its number and returns the customer, the item, the amount, the status and any refund.", ToolSchema.ClosedObject("""
        "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1042." }
        """, "order_id"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var orderId = arguments.GetProperty("order_id").GetString()!;
        await using var connection = await desk.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT o.customer, o.item, o.amount, o.currency, o.status, o.ordered_at, r.amount, r.reason, r.refunded_at
            FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id WHERE o.order_id = $id
            """;
        command.Parameters.AddWithValue("$id", orderId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new ToolException(ToolErrorKind.Failed, $"There is no order {orderId}.", causedByCaller: true);
        }

        return JsonSerializer.Serialize(new
        {
            order_id = orderId,
            customer = reader.GetString(0),
            item = reader.GetString(1),
            amount = reader.GetString(2),
            currency = reader.GetString(3),
            status = reader.GetString(4),
            ordered_at = reader.GetString(5),
            refund = reader.IsDBNull(6) ? null : new { amount = reader.GetString(6), reason = reader.IsDBNull(7) ? null : reader.GetString(7), refunded_at = reader.GetString(8) },
        });
    }
}

/// Refunds an order once: an order already refunded, or not delivered yet, is refused. An order
/// over the agent's `escalate_above` is never refunded by the agent, approved or not: the run goes
/// to a person (NeedsPerson), because a limit the model could argue its way past is no limit.
public sealed class RefundOrderTool(OrderDesk desk, TimeProvider clock) : ITool
{
    public const string EscalateAbove = "escalate_above";

    public static readonly ToolDescriptor Descriptor = new("refund_order", "Refunds a customer order in full to the original payment and marks it refunded. It moves money: use it only when the refund is justified.", ToolSchema.ClosedObject("""
        "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1042." },
        "reason": { "type": "string", "maxLength": 500, "description": "Why the order is refunded, in the customer's words." }
        """, "order_id"), SideEffects: true)
    {
        Settings = new Dictionary<string, string>
        {
            [EscalateAbove] = "an amount such as 500.00: a refund of an order worth more goes to a person instead (the run is escalated)",
        },
    };

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var orderId = arguments.GetProperty("order_id").GetString()!;
        var reason = arguments.TryGetProperty("reason", out var r) ? r.GetString() : null;
        await using var connection = await desk.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT amount, currency, status FROM orders WHERE order_id = $id";
        read.Parameters.AddWithValue("$id", orderId);
        string amount, currency, status;
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new ToolException(ToolErrorKind.Failed, $"There is no order {orderId}.", causedByCaller: true);
            }

            (amount, currency, status) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }

        if (status != "delivered")
        {
            throw new ToolException(ToolErrorKind.Failed, $"Order {orderId} is {status}: only a delivered order can be refunded.", causedByCaller: true);
        }

        if (invocation.Policy.Settings.TryGetValue(EscalateAbove, out var limitText))
        {
            var limit = decimal.TryParse(limitText, NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed) ? parsed
                : throw new ToolException(ToolErrorKind.Failed, $"refund_order's setting {EscalateAbove} of agent '{invocation.Agent}' is '{limitText}', not an amount such as 500.00.");
            if (decimal.Parse(amount, CultureInfo.InvariantCulture) > limit)
            {
                throw new ToolException(ToolErrorKind.NeedsPerson,
                    $"Order {orderId} is worth {amount} {currency}, over agent '{invocation.Agent}''s refund limit of {limit.ToString(CultureInfo.InvariantCulture)} {currency}: a person decides this refund.", causedByCaller: true);
            }
        }

        await using var write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = """
            INSERT INTO refunds (order_id, amount, reason, run_id, call_id, refunded_at) VALUES ($id, $amount, $reason, $run, $call, $at);
            UPDATE orders SET status = 'refunded' WHERE order_id = $id;
            """;
        write.Parameters.AddWithValue("$id", orderId);
        write.Parameters.AddWithValue("$amount", amount);
        write.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        write.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        write.Parameters.AddWithValue("$call", invocation.CallId);
        write.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await write.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return $"Refunded {amount} {currency} for order {orderId}; the order is now marked refunded.";
    }
}
