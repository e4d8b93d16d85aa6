using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.MarketResearch;

/// Where the market-research sample keeps its sources and its wiki (Tools:Market). Without a
/// connection string it is a file next to the embedded transcript store.
public sealed class MarketDataOptions
{
    public const string Section = "Tools:Market";

    public string ConnectionString { get; set; } =
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "market.db")}";
}

/// The sample's stand-in for a news wire, a filings database, a price feed and a team wiki, in one
/// SQLite file. A new, empty database gets the demo watchlist (ACME, GLBX, November to 4 December
/// 2026, see MarketDemoData); a database with data of its own is used as it is. Every source row has
/// an id, so that a report can cite it and the wiki can check the citation.
public sealed class MarketData(IOptions<MarketDataOptions> options)
{
    private readonly Lazy<string> _connectionString = new(() => Prepare(options.Value.ConnectionString));

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString.Value);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// The ids among `ids` that no source has: a citation of one of them cites nothing.
    public static async Task<List<string>> UnknownSourcesAsync(SqliteConnection connection, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var unknown = new List<string>();
        foreach (var id in ids)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT 1 FROM news WHERE id = $id UNION ALL SELECT 1 FROM filings WHERE id = $id
                UNION ALL SELECT 1 FROM prices WHERE 'PX-' || ticker || '-' || day = $id
                """;
            command.Parameters.AddWithValue("$id", id);
            if (await command.ExecuteScalarAsync(cancellationToken) is null)
            {
                unknown.Add(id);
            }
        }

        return unknown;
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
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS news (
              id TEXT PRIMARY KEY, ticker TEXT NOT NULL, published_on TEXT NOT NULL, headline TEXT NOT NULL,
              summary TEXT NOT NULL, url TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS filings (
              id TEXT PRIMARY KEY, ticker TEXT NOT NULL, filed_on TEXT NOT NULL, form TEXT NOT NULL,
              summary TEXT NOT NULL, url TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS prices (
              ticker TEXT NOT NULL, day TEXT NOT NULL, close TEXT NOT NULL, PRIMARY KEY (ticker, day));
            CREATE TABLE IF NOT EXISTS wiki_pages (
              slug TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, citations TEXT NOT NULL,
              anomalies TEXT NOT NULL, revision INTEGER NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL,
              published_at TEXT NOT NULL);
            """;
        command.ExecuteNonQuery();
        command.CommandText = "SELECT (SELECT COUNT(*) FROM news) + (SELECT COUNT(*) FROM filings) + (SELECT COUNT(*) FROM prices)";
        if ((long)command.ExecuteScalar()! == 0)
        {
            Seed(connection, transaction);
        }

        transaction.Commit();
        return builder.ToString();
    }

    private static void Seed(SqliteConnection connection, SqliteTransaction transaction)
    {
        foreach (var (id, ticker, day, headline, summary) in MarketDemoData.News)
        {
            Insert(connection, transaction, "INSERT INTO news VALUES ($1, $2, $3, $4, $5, $6)", id, ticker, day, headline, summary, $"https://news.example.com/{ticker.ToLowerInvariant()}/{id}");
        }

        foreach (var (id, ticker, day, form, summary) in MarketDemoData.Filings)
        {
            Insert(connection, transaction, "INSERT INTO filings VALUES ($1, $2, $3, $4, $5, $6)", id, ticker, day, form, summary, $"https://filings.example.com/{ticker.ToLowerInvariant()}/{id}");
        }

        foreach (var (ticker, day, close) in MarketDemoData.Closes())
        {
            Insert(connection, transaction, "INSERT INTO prices VALUES ($1, $2, $3)", ticker, day, close.ToString("0.00", CultureInfo.InvariantCulture));
        }
    }

    private static void Insert(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] values)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"${i + 1}", values[i]);
        }

        command.ExecuteNonQuery();
    }
}
