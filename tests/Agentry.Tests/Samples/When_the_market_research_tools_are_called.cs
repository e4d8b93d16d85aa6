using System.Text.Json;
using Agentry.Agents;
using Agentry.Samples.MarketResearch;
using Agentry.Tests.EndToEnd;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Samples;

/// The market-research sample's tools on their own: the wiki's page per slug (a repeat changes
/// nothing, new content is a new revision), its refusal of a citation the text never uses, and the
/// price feed's threshold taken from the agent's setting.
public sealed class When_the_market_research_tools_are_called
{
    private TempFolder _folder = null!;
    private MarketData _data = null!;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 7, 11, 5, 0, TimeSpan.Zero));

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _data = new MarketData(Options.Create(new MarketDataOptions { ConnectionString = Market }));
    }

    [TearDown]
    public void Stop() => _folder.Dispose();

    private string Market => $"Data Source={_folder.File("market.db")};Pooling=False";

    private static ToolInvocation Call(string callId, IReadOnlyDictionary<string, string>? settings = null) =>
        new(Guid.NewGuid(), "default", "market-research", 1, callId) { Policy = ToolPolicy.Unrestricted with { Settings = settings ?? ToolPolicy.NoSettings } };

    private static JsonElement Page(string body, params string[] citations) => JsonSerializer.SerializeToElement(new
    {
        slug = "market-report-2026-12-07",
        title = "Pre-market report, 2026-12-07",
        body,
        citations,
    });

    private async Task<List<string>> Rows(string sql)
    {
        await using var db = new SqliteConnection(Market);
        await db.OpenAsync();
        return await SqliteRows.Query(db, sql);
    }

    [Test]
    public async Task Should_keep_one_page_per_slug_and_count_a_revision_only_when_it_changes()
    {
        var wiki = new PublishWikiPageTool(_data, _clock);
        var first = Page("ACME's guidance was cut [F-0193].", "F-0193");

        Assert.That(await wiki.InvokeAsync(first, Call("call_1"), CancellationToken.None), Does.StartWith("Published the wiki page market-report-2026-12-07 (revision 1)"));
        Assert.That(await wiki.InvokeAsync(first, Call("call_1"), CancellationToken.None), Does.Contain("(revision 1)"), "the same page again is no new revision");
        Assert.That(await wiki.InvokeAsync(Page("ACME's guidance was cut [F-0193], the CEO said otherwise [N-2041].", "F-0193", "N-2041"), Call("call_2"), CancellationToken.None),
            Does.Contain("(revision 2) with 2 citation(s)"));

        Assert.That(await Rows("SELECT slug || ' r' || revision || ' ' || citations || ' ' || call_id FROM wiki_pages"),
            Is.EqualTo(new[] { """market-report-2026-12-07 r2 ["F-0193","N-2041"] call_2""" }));
    }

    [Test]
    public void Should_refuse_a_citation_the_text_never_uses()
    {
        var wiki = new PublishWikiPageTool(_data, _clock);

        var refused = Assert.ThrowsAsync<ToolException>(() => wiki.InvokeAsync(Page("ACME's guidance was cut [F-0193].", "F-0193", "N-2041"), Call("call_1"), CancellationToken.None));

        Assert.That(refused!.Message, Is.EqualTo("The body never cites N-2041: cite each listed source where it is used, e.g. [N-2041], or leave it out of citations. Nothing was published."));
        Assert.That(refused.CausedByCaller, Is.True);
    }

    [Test]
    public async Task Should_flag_the_moves_beyond_the_agents_anomaly_sigma()
    {
        var prices = new MarketPricesTool(_data);
        var arguments = JsonSerializer.SerializeToElement(new { tickers = new[] { "ACME", "GLBX" }, days = 20 });

        async Task<List<string>> Flagged(string sigma)
        {
            var output = JsonDocument.Parse(await prices.InvokeAsync(arguments, Call("call_1", new Dictionary<string, string> { [MarketPricesTool.AnomalySigma] = sigma }), CancellationToken.None)).RootElement;
            return [.. output.GetProperty("series").EnumerateArray().SelectMany(s => s.GetProperty("anomalies").EnumerateArray()).Select(a => a.GetProperty("id").GetString()!)];
        }

        Assert.That(await Flagged("3"), Is.EqualTo(new[] { "PX-ACME-2026-12-03" }));
        Assert.That(await Flagged("20"), Is.Empty);
        Assert.That(await Flagged("1.5"), Has.Count.GreaterThan(1).And.Contains("PX-ACME-2026-12-03"), "a lower threshold flags ordinary days too");
    }
}
