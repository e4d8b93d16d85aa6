using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Samples.CodeReview;
using Agentry.Samples.DataPipeline;
using Agentry.Samples.LeadOutreach;
using Agentry.Samples.MarketResearch;
using Agentry.Samples.OrderDesk;
using Agentry.Samples.PriorAuth;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Samples;

/// The tool packs of the sample systems (samples/), which the shipped agents/ folder names. Every
/// process checks the tool names of the agents it loads at start, so every host registers them all.
public static class SampleTools
{
    public static IReadOnlyList<ToolPack> Packs { get; } = [OrderDeskPack.Pack, CodeReviewPack.Pack, DataPipelinePack.Pack, MarketResearchPack.Pack, LeadOutreachPack.Pack, PriorAuthPack.Pack];

    public static IServiceCollection AddSampleTools(this IServiceCollection services, IConfiguration configuration)
    {
        foreach (var pack in Packs)
        {
            services.AddToolPack(pack, configuration);
        }

        return services;
    }
}
