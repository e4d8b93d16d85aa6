using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.ToolExecutor.Tools;

/// Where the customer-support sample's order desk keeps its orders (Tools:Orders). Without a
/// connection string it is a file next to the embedded transcript store.
public sealed class OrderDeskOptions
{
    public const string Section = "Tools:Orders";

    public string ConnectionString { get; set; } =
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "orders.db")}";
}

/// The sample order desk: an orders table and a refunds table in SQLite. A new, empty database gets
/// four demo orders (1001 to 1004) so that the sample runs out of the box; a database with orders of
/// its own is used as it is.
public sealed class OrderDesk(IOptions<OrderDeskOptions> options)
{
    private readonly Lazy<string> _connectionString = new(() => Prepare(options.Value.ConnectionString));

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString.Value);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static string Prepare(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS orders (
              order_id TEXT PRIMARY KEY, customer TEXT NOT NULL, item TEXT NOT NULL, amount TEXT NOT NULL,
              currency TEXT NOT NULL, status TEXT NOT NULL, ordered_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS refunds (
              order_id TEXT PRIMARY KEY REFERENCES orders (order_id), amount TEXT NOT NULL, reason TEXT,
              run_id TEXT NOT NULL, call_id TEXT NOT NULL, refunded_at TEXT NOT NULL);
            INSERT INTO orders (order_id, customer, item, amount, currency, status, ordered_at)
            SELECT * FROM (VALUES
              ('1001', 'Ada Lovelace', 'Mechanical keyboard', '89.00', 'EUR', 'delivered', '2026-11-02'),
              ('1042', 'Grace Hopper', 'Noise-cancelling headphones', '249.99', 'EUR', 'delivered', '2026-11-12'),
              ('1043', 'Alan Turing', 'USB-C dock', '129.50', 'EUR', 'shipped', '2026-11-20'),
              ('1044', 'Katherine Johnson', 'Desk lamp', '39.90', 'EUR', 'refunded', '2026-10-28'))
            WHERE NOT EXISTS (SELECT 1 FROM orders);
            """;
        command.ExecuteNonQuery();
        return builder.ToString();
    }
}

public sealed class LookupOrderTool(OrderDesk desk) : ITool
{
    public string Name => SampleTools.LookupOrder.Name;

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

/// Refunds an order once: an order already refunded, or not delivered yet, is refused.
public sealed class RefundOrderTool(OrderDesk desk, TimeProvider clock) : ITool
{
    public string Name => SampleTools.RefundOrder.Name;

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
