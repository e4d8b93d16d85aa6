using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.MarketResearch;

/// The market-research sample (agents/market-research.yaml, docs/cases/market-research.md): a news
/// wire, a filings database and a price feed to read, and a team wiki to publish to, in one SQLite
/// file (Tools:Market) with a demo watchlist on first use.
public static class MarketResearchPack
{
    public static ToolPack Pack { get; } = ToolPack.Of([MarketNewsTool.Descriptor, MarketFilingsTool.Descriptor, MarketPricesTool.Descriptor, PublishWikiPageTool.Descriptor], (services, _) =>
    {
        services.AddOptions<MarketDataOptions>().BindConfiguration(MarketDataOptions.Section);
        services.TryAddSingleton<MarketData>();
        services.AddSingleton<ITool, MarketNewsTool>();
        services.AddSingleton<ITool, MarketFilingsTool>();
        services.AddSingleton<ITool, MarketPricesTool>();
        services.AddSingleton<ITool, PublishWikiPageTool>();
    });
}
