using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.OrderDesk;

/// Where the customer-support sample's order desk keeps its orders (Tools:Orders). Without a
/// connection string it is a file next to the embedded transcript store.
public sealed class OrderDeskOptions
{
    public const string Section = "Tools:Orders";

    public string ConnectionString { get; set; } =
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "orders.db")}";
}

/// The sample order desk: the shop's orders and refunds, the carrier's shipments and the help desk's
/// ticket replies, in SQLite. A new, empty database gets demo orders (1001, 1042 to 1044, 1050,
/// 1051) with their shipments so that the sample runs out of the box; a database with orders of its
/// own is used as it is.
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
              ('1044', 'Katherine Johnson', 'Desk lamp', '39.90', 'EUR', 'refunded', '2026-10-28'),
              ('1050', 'Margaret Hamilton', 'Laptop', '1899.00', 'EUR', 'delivered', '2026-11-25'),
              ('1051', 'Edsger Dijkstra', '27-inch monitor', '329.00', 'EUR', 'shipped', '2026-11-28'))
            WHERE NOT EXISTS (SELECT 1 FROM orders);
            CREATE TABLE IF NOT EXISTS shipments (
              order_id TEXT PRIMARY KEY REFERENCES orders (order_id), carrier TEXT NOT NULL, tracking TEXT NOT NULL,
              status TEXT NOT NULL, eta TEXT, address TEXT NOT NULL, last_event TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS reroutes (
              order_id TEXT NOT NULL REFERENCES orders (order_id), address TEXT NOT NULL,
              run_id TEXT NOT NULL, call_id TEXT NOT NULL, rerouted_at TEXT NOT NULL, PRIMARY KEY (run_id, call_id));
            INSERT INTO shipments (order_id, carrier, tracking, status, eta, address, last_event)
            SELECT * FROM (VALUES
              ('1001', 'DHL', 'JD014600001001', 'delivered', NULL, '12 St James Square, London', 'Delivered 2026-11-05, signed by A. Lovelace'),
              ('1042', 'DHL', 'JD014600001042', 'delivered', NULL, '3 Arlington Road, Arlington VA', 'Delivered 2026-11-15, left at the front door'),
              ('1043', 'UPS', '1Z999AA10000001043', 'in_transit', '2026-12-08', '1 Sherborne Lane, Wilmslow', 'Departed the Leipzig hub 2026-12-03'),
              ('1050', 'DHL', 'JD014600001050', 'delivered', NULL, '9 Tech Square, Cambridge MA', 'Delivered 2026-11-28, signed by M. Hamilton'),
              ('1051', 'UPS', '1Z999AA10000001051', 'delayed', '2026-12-10', 'Plantage Muidergracht 24, Amsterdam', 'Address not found: held at the Amsterdam depot 2026-12-02'))
            WHERE NOT EXISTS (SELECT 1 FROM shipments);
            CREATE TABLE IF NOT EXISTS ticket_replies (
              ticket_id TEXT NOT NULL, message TEXT NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL,
              replied_at TEXT NOT NULL, PRIMARY KEY (run_id, call_id));
            """;
        command.ExecuteNonQuery();
        return builder.ToString();
    }
}
