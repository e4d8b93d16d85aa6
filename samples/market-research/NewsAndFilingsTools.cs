using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.MarketResearch;

/// The sample's news wire: the stories about the watchlist in the days before the report, each
/// with the id to cite it by and its link.
public sealed class MarketNewsTool(MarketData data) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("market_news", "Returns the news stories about the given tickers published in the days up to as_of, each with an id to cite (N-...), its date, headline, summary and link.", ToolSchema.ClosedObject($$"""
        {{SourceQuery.TickersSchema}},
        "days": { "type": "integer", "minimum": 1, "maximum": 31, "description": "How many days back from as_of. Default 7." }
        """, "tickers"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenAsync(cancellationToken);
        var query = await SourceQuery.ReadAsync(arguments, connection, defaultDays: 7, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, ticker, published_on, headline, summary, url FROM news
            WHERE ticker IN ({query.TickerList(command)}) AND published_on > $from AND published_on <= $to ORDER BY published_on, id
            """;
        command.Parameters.AddWithValue("$from", query.From);
        command.Parameters.AddWithValue("$to", query.To);
        var stories = new List<object>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            stories.Add(new { id = reader.GetString(0), ticker = reader.GetString(1), published_on = reader.GetString(2), headline = reader.GetString(3), summary = reader.GetString(4), url = reader.GetString(5) });
        }

        return JsonSerializer.Serialize(new { as_of = query.To, since = query.From, stories });
    }
}

/// The sample's filings database (an EDGAR stand-in): the companies' own filings in the days before
/// the report, each with the id to cite it by. A filing is what the company states; news is what
/// someone reported: where they disagree, the filing is the record.
public sealed class MarketFilingsTool(MarketData data) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("market_filings", "Returns the regulatory filings (8-K, 10-Q, Form 4, ...) of the given tickers filed in the days up to as_of, each with an id to cite (F-...), its form, date, summary and link.", ToolSchema.ClosedObject($$"""
        {{SourceQuery.TickersSchema}},
        "days": { "type": "integer", "minimum": 1, "maximum": 31, "description": "How many days back from as_of. Default 14." }
        """, "tickers"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenAsync(cancellationToken);
        var query = await SourceQuery.ReadAsync(arguments, connection, defaultDays: 14, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, ticker, filed_on, form, summary, url FROM filings
            WHERE ticker IN ({query.TickerList(command)}) AND filed_on > $from AND filed_on <= $to ORDER BY filed_on, id
            """;
        command.Parameters.AddWithValue("$from", query.From);
        command.Parameters.AddWithValue("$to", query.To);
        var filings = new List<object>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            filings.Add(new { id = reader.GetString(0), ticker = reader.GetString(1), filed_on = reader.GetString(2), form = reader.GetString(3), summary = reader.GetString(4), url = reader.GetString(5) });
        }

        return JsonSerializer.Serialize(new { as_of = query.To, since = query.From, filings });
    }
}
