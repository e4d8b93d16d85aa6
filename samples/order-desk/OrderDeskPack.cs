using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.OrderDesk;

/// The order desk of the customer-support sample (agents/customer-support.yaml, docs/cases/customer-support.md):
/// a small shop database in SQLite (Tools:Orders) with the carrier's shipments and the help desk's
/// replies: read-only lookups, and a refund, a reroute and a reply that change it. Real tools, so the sample's approval guards a real side effect; a deployment points
/// them at its own file, or simply lists no agent that uses them.
public static class OrderDeskPack
{
    public static ToolPack Pack { get; } = ToolPack.Of([LookupOrderTool.Descriptor, RefundOrderTool.Descriptor, TrackShipmentTool.Descriptor, RerouteShipmentTool.Descriptor, ReplyToTicketTool.Descriptor], (services, _) =>
    {
        services.AddOptions<OrderDeskOptions>().BindConfiguration(OrderDeskOptions.Section);
        services.TryAddSingleton<OrderDesk>();
        services.AddSingleton<ITool, LookupOrderTool>();
        services.AddSingleton<ITool, RefundOrderTool>();
        services.AddSingleton<ITool, TrackShipmentTool>();
        services.AddSingleton<ITool, RerouteShipmentTool>();
        services.AddSingleton<ITool, ReplyToTicketTool>();
    });
}
