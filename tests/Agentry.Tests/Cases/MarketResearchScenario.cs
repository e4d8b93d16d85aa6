using System.Text.Json;
using Agentry.Tests.Llm;

namespace Agentry.Tests.Cases;

/// The market-research case's script (docs/cases/market-research.md), shared by its end-to-end test
/// and its dataset's: the model's side of the 2026-12-07 report on ACME and GLBX.
public static class MarketResearchScenario
{
    public const string Goal = "Write the pre-market research report for 2026-12-07 (Monday) on the watchlist ACME and GLBX.";
    public const string Sources = """{"tickers":["ACME","GLBX"],"as_of":"2026-12-07"}""";

    public const string Body = """
        # Pre-market report, 2026-12-07

        **ACME: the filing contradicts the news.** On 3 December the chief executive said the outlook of 2.4 billion dollars was reaffirmed [N-2041], while the company's 8-K of the same day lowered it to 2.1 billion and announced the finance chief's resignation [F-0193]. The shares fell 11.8%, a move of about 17 standard deviations [PX-ACME-2026-12-03].

        **GLBX:** a three-year European contract [N-2038] and November volumes up 3% [N-2045]; prices moved within their usual range.
        """;

    public static readonly object Input = new { as_of = "2026-12-07", tickers = new[] { "ACME", "GLBX" } };

    public static FakeToolCall Gather(string id, string tool) => new(id, $"tools-{tool}", Sources);

    public static FakeToolCall Publish(string id, params string[] citations) => new(id, "tools-publish_wiki_page", JsonSerializer.Serialize(new
    {
        slug = "market-report-2026-12-07",
        title = "Pre-market report, 2026-12-07",
        body = Body,
        citations,
        anomalies = new[]
        {
            "ACME fell 11.8% on 2026-12-03, about 17 sigma [PX-ACME-2026-12-03]",
            "ACME's 8-K [F-0193] lowered the guidance the CEO reaffirmed in the news the same day [N-2041]",
        },
    }));

    public const string Answer = "ACME: the 8-K [F-0193] lowered the guidance the CEO reaffirmed [N-2041]; the shares fell 11.8%, about 17 sigma [PX-ACME-2026-12-03]. GLBX: new contract [N-2038], volumes up 3% [N-2045]. Full report: wiki market-report-2026-12-07.";

    /// News, filings and prices at once; a page the wiki refuses for citing a story the news wire
    /// never returned (N-2042 for N-2041); the corrected page.
    public static OpenAiFake ScriptTheReport(this OpenAiFake model) => model
        .ReplyWithToolCalls(Gather("call_1", "market_news"), Gather("call_2", "market_filings"), Gather("call_3", "market_prices"))
        .ReplyWithToolCalls(Publish("call_4", "N-2042", "F-0193", "PX-ACME-2026-12-03", "N-2038", "N-2045"))
        .ReplyWithToolCalls(Publish("call_5", "N-2041", "F-0193", "PX-ACME-2026-12-03", "N-2038", "N-2045"));
}
