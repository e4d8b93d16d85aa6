using System.Globalization;

namespace Agentry.Samples.MarketResearch;

/// The demo watchlist a new market database starts with: two fictitious companies, a month of
/// trading, and one story worth a report: on 3 December 2026 Acme Robotics' chief executive tells
/// the press that the outlook stands while the company's own 8-K lowers it, and its shares fall
/// about 12% on a day when they usually move 1%.
public static class MarketDemoData
{
    public static readonly (string Id, string Ticker, string Day, string Headline, string Summary)[] News =
    [
        ("N-2031", "ACME", "2026-11-30", "Acme Robotics opens a second plant in Ohio", "The plant adds 40% capacity for warehouse robots from the second quarter of 2027."),
        ("N-2038", "GLBX", "2026-12-02", "Globex Logistics wins a three-year contract with a European retailer", "The contract is worth about 180 million dollars a year from March 2027."),
        ("N-2041", "ACME", "2026-12-03", "Acme Robotics CEO: demand has never been stronger", "In an interview the chief executive said the full-year outlook of 2.4 billion dollars in revenue was reaffirmed."),
        ("N-2044", "ACME", "2026-12-04", "Acme Robotics shares slide; analysts ask about the finance chief", "Analysts asked why the company's chief financial officer was absent from an investor event."),
        ("N-2045", "GLBX", "2026-12-04", "Globex reports November volumes up 3%", "Shipped volumes rose 3% year on year, in line with the company's guidance."),
    ];

    public static readonly (string Id, string Ticker, string Day, string Form, string Summary)[] Filings =
    [
        ("F-0187", "GLBX", "2026-11-20", "10-Q", "Quarterly report: revenue 1.21 billion dollars, up 4% year on year; full-year guidance unchanged."),
        ("F-0190", "ACME", "2026-11-25", "4", "A director sold 20,000 shares at 48.10 dollars on 2026-11-24."),
        ("F-0193", "ACME", "2026-12-03", "8-K", "Item 2.02: full-year revenue guidance lowered from 2.4 to 2.1 billion dollars after two large customers cancelled orders. Item 5.02: the chief financial officer resigns, effective 2026-12-31."),
    ];

    // Daily moves in basis points, one per trading day after the first. ACME's -1180 on 3 December
    // is the anomaly; every other move of either stock is within about 1.2%.
    private static readonly (string Ticker, decimal First, int[] Moves)[] Series =
    [
        ("ACME", 52.40m, [62, -85, 41, 120, -33, -97, 74, 18, -56, 89, -45, 27, 102, -118, 36, -12, 51, -64, 23, 80, -40, -1180, -95]),
        ("GLBX", 31.75m, [30, -25, 44, -18, 12, 55, -40, 21, -9, 33, -27, 15, 48, -36, 8, 19, -22, 41, -14, 26, 37, -11, 29]),
    ];

    /// The weekdays of 2 November to 4 December 2026 but Thanksgiving, when the exchanges were shut.
    public static IReadOnlyList<string> TradingDays { get; } = Enumerable.Range(0, 33)
        .Select(offset => new DateOnly(2026, 11, 2).AddDays(offset))
        .Where(day => day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday) && day != new DateOnly(2026, 11, 26))
        .Select(day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
        .ToList();

    public static IEnumerable<(string Ticker, string Day, decimal Close)> Closes()
    {
        foreach (var (ticker, first, moves) in Series)
        {
            var close = first;
            yield return (ticker, TradingDays[0], close);
            for (var i = 0; i < moves.Length; i++)
            {
                close = Math.Round(close * (1 + moves[i] / 10_000m), 2);
                yield return (ticker, TradingDays[i + 1], close);
            }
        }
    }
}
