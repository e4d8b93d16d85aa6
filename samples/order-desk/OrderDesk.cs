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
