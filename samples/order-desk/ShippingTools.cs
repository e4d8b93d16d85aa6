using System.Globalization;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.OrderDesk;

/// The carrier's view of an order: where the parcel is and when it should arrive.
public sealed class TrackShipmentTool(OrderDesk desk) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("track_shipment", "Tracks the shipment of a customer order with the carrier: carrier, tracking number, status (in_transit, delayed, delivered), expected delivery, delivery address and the latest carrier event.", ToolSchema.ClosedObject("""
        "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1043." }
        """, "order_id"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var orderId = arguments.GetProperty("order_id").GetString()!;
        await using var connection = await desk.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT carrier, tracking, status, eta, address, last_event,
                   (SELECT address FROM reroutes r WHERE r.order_id = s.order_id ORDER BY rerouted_at DESC LIMIT 1)
            FROM shipments s WHERE order_id = $id
            """;
        command.Parameters.AddWithValue("$id", orderId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new ToolException(ToolErrorKind.Failed, $"The carrier has no shipment for order {orderId}.", causedByCaller: true);
        }

        return JsonSerializer.Serialize(new
        {
            order_id = orderId,
            carrier = reader.GetString(0),
            tracking = reader.GetString(1),
            status = reader.GetString(2),
            eta = reader.IsDBNull(3) ? null : reader.GetString(3),
            address = reader.IsDBNull(6) ? reader.GetString(4) : reader.GetString(6),
            last_event = reader.GetString(5),
        });
    }
}

/// Sends a parcel that is still on its way to another address. The carrier accepts it only before
/// delivery; the same call delivered twice reroutes once.
public sealed class RerouteShipmentTool(OrderDesk desk, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("reroute_shipment", "Asks the carrier to deliver a parcel that has not been delivered yet to another address.", ToolSchema.ClosedObject("""
        "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1051." },
        "address": { "type": "string", "minLength": 5, "maxLength": 300, "description": "The full new delivery address." }
        """, "order_id", "address"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var orderId = arguments.GetProperty("order_id").GetString()!;
        var address = arguments.GetProperty("address").GetString()!.Trim();
        await using var connection = await desk.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT carrier, status FROM shipments WHERE order_id = $id";
        read.Parameters.AddWithValue("$id", orderId);
        string carrier, status;
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new ToolException(ToolErrorKind.Failed, $"The carrier has no shipment for order {orderId}.", causedByCaller: true);
            }

            (carrier, status) = (reader.GetString(0), reader.GetString(1));
        }

        if (status == "delivered")
        {
            throw new ToolException(ToolErrorKind.Failed, $"Order {orderId} was already delivered: {carrier} cannot reroute it.", causedByCaller: true);
        }

        await using var write = connection.CreateCommand();
        write.Transaction = transaction;
        write.CommandText = """
            INSERT INTO reroutes (order_id, address, run_id, call_id, rerouted_at) VALUES ($id, $address, $run, $call, $at)
            ON CONFLICT (run_id, call_id) DO NOTHING;
            UPDATE shipments SET status = 'in_transit', last_event = 'Rerouted at the customer''s request' WHERE order_id = $id;
            """;
        write.Parameters.AddWithValue("$id", orderId);
        write.Parameters.AddWithValue("$address", address);
        write.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        write.Parameters.AddWithValue("$call", invocation.CallId);
        write.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await write.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return $"{carrier} will deliver order {orderId} to {address}.";
    }
}
