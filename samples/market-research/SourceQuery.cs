using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;

namespace Agentry.Samples.MarketResearch;

/// What the three source tools share: the watchlist and the day the report is written for.
internal sealed record SourceQuery(IReadOnlyList<string> Tickers, DateOnly AsOf, int Days)
{
    public const string TickersSchema = """
        "tickers": { "type": "array", "minItems": 1, "maxItems": 10, "uniqueItems": true, "items": { "type": "string", "pattern": "^[A-Z]{1,5}$" }, "description": "Ticker symbols, for example [\"ACME\", \"GLBX\"]." },
        "as_of": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "The day the report is for (YYYY-MM-DD): nothing later is returned. Default: the latest trading day in the data." }
        """;

    /// The arguments, with `as_of` defaulted to the latest trading day the price feed has, so that
    /// the three tools agree on "today" when the model leaves it out.
    public static async Task<SourceQuery> ReadAsync(JsonElement arguments, SqliteConnection connection, int defaultDays, CancellationToken cancellationToken)
    {
        var tickers = arguments.GetProperty("tickers").EnumerateArray().Select(t => t.GetString()!).ToList();
        var days = arguments.TryGetProperty("days", out var d) ? d.GetInt32() : defaultDays;
        if (arguments.TryGetProperty("as_of", out var asOf))
        {
            return DateOnly.TryParseExact(asOf.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? new SourceQuery(tickers, day, days)
                : throw new ToolException(ToolErrorKind.Failed, $"as_of '{asOf.GetString()}' is not a date such as 2026-12-07.", causedByCaller: true);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(day) FROM prices";
        var latest = await command.ExecuteScalarAsync(cancellationToken) as string;
        return new SourceQuery(tickers, latest is null ? DateOnly.FromDateTime(DateTime.UtcNow) : DateOnly.ParseExact(latest, "yyyy-MM-dd", CultureInfo.InvariantCulture), days);
    }

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public string From => Day(AsOf.AddDays(-Days));

    public string To => Day(AsOf);

    /// `ticker IN (...)` with one parameter per ticker.
    public string TickerList(SqliteCommand command)
    {
        for (var i = 0; i < Tickers.Count; i++)
        {
            command.Parameters.AddWithValue($"$t{i}", Tickers[i]);
        }

        return string.Join(", ", Tickers.Select((_, i) => $"$t{i}"));
    }
}
