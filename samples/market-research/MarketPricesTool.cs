using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.MarketResearch;

/// The sample's price feed: daily closes up to as_of, each with the id to cite it by, and the moves
/// that stand out. A move stands out when it is more than the agent's `anomaly_sigma` standard
/// deviations from the stock's previous 20 daily moves: measured against the days before it, so
/// that the move itself does not widen the yardstick it is measured with.
public sealed class MarketPricesTool(MarketData data) : ITool
{
    public const string AnomalySigma = "anomaly_sigma";

    private const double DefaultSigma = 3.0;
    private const int Lookback = 20;
    private const int MinimumHistory = 10;

    public static readonly ToolDescriptor Descriptor = new("market_prices", "Returns the daily closing prices of the given tickers for the last trading days up to as_of, each with an id to cite (PX-TICKER-DAY) and its change, and the anomalies: moves far outside the stock's usual daily range, with their size in standard deviations.", ToolSchema.ClosedObject($$"""
        {{SourceQuery.TickersSchema}},
        "days": { "type": "integer", "minimum": 2, "maximum": 20, "description": "How many trading days to return, up to as_of. Default 5." }
        """, "tickers"))
    {
        Settings = new Dictionary<string, string>
        {
            [AnomalySigma] = "a number such as 3: a daily move more than this many standard deviations from the stock's previous 20 moves is reported as an anomaly (default 3)",
        },
    };

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var sigma = DefaultSigma;
        if (invocation.Policy.Settings.TryGetValue(AnomalySigma, out var text) &&
            !(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out sigma) && sigma > 0))
        {
            throw new ToolException(ToolErrorKind.Failed, $"market_prices' setting {AnomalySigma} of agent '{invocation.Agent}' is '{text}', not a positive number such as 3.");
        }

        await using var connection = await data.OpenAsync(cancellationToken);
        var query = await SourceQuery.ReadAsync(arguments, connection, defaultDays: 5, cancellationToken);
        var series = new List<object>();
        foreach (var ticker in query.Tickers)
        {
            var closes = new List<(string Day, decimal Close)>();
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT day, close FROM prices WHERE ticker = $ticker AND day <= $to ORDER BY day";
                command.Parameters.AddWithValue("$ticker", ticker);
                command.Parameters.AddWithValue("$to", query.To);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    closes.Add((reader.GetString(0), decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
                }
            }

            series.Add(closes.Count == 0 ? new { ticker, error = $"The price feed has no closes for {ticker} up to {query.To}." } : Describe(ticker, closes, query.Days, sigma));
        }

        return JsonSerializer.Serialize(new { as_of = query.To, anomaly_threshold_sigma = sigma, series });
    }

    private static object Describe(string ticker, List<(string Day, decimal Close)> closes, int days, double threshold)
    {
        // moves[i] is the change into closes[i + 1].
        var moves = closes.Zip(closes.Skip(1), (a, b) => (double)(b.Close / a.Close - 1)).ToList();
        var shown = new List<object>();
        var anomalies = new List<object>();
        for (var i = Math.Max(0, closes.Count - days); i < closes.Count; i++)
        {
            var (day, close) = closes[i];
            var id = $"PX-{ticker}-{day}";
            double? change = i == 0 ? null : moves[i - 1];
            shown.Add(new { id, day, close, change_pct = change is { } c ? Math.Round(c * 100, 2) : (double?)null });
            var history = i < 2 ? [] : moves.Take(i - 1).TakeLast(Lookback).ToList();
            if (change is not { } move || history.Count < MinimumHistory)
            {
                continue;
            }

            var mean = history.Average();
            var deviation = Math.Sqrt(history.Sum(m => (m - mean) * (m - mean)) / (history.Count - 1));
            var z = (move - mean) / deviation;
            if (Math.Abs(z) > threshold)
            {
                anomalies.Add(new { id, day, change_pct = Math.Round(move * 100, 2), sigma = Math.Round(z, 1), usual_daily_move_pct = Math.Round(deviation * 100, 2) });
            }
        }

        return new { ticker, closes = shown, anomalies };
    }
}
