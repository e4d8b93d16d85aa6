using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.OrderDesk;

/// The order desk of the customer-support sample (agents/customer-support.yaml, docs/approvals.md):
/// a small shop database in SQLite (Tools:Orders), with a read-only lookup and a refund that
/// changes it. Real tools, so the sample's approval guards a real side effect; a deployment points
/// them at its own file, or simply lists no agent that uses them.
public static class OrderDeskPack
{
    public static ToolPack Pack { get; } = ToolPack.Of([LookupOrderTool.Descriptor, RefundOrderTool.Descriptor], (services, _) =>
    {
        services.AddOptions<OrderDeskOptions>().BindConfiguration(OrderDeskOptions.Section);
        services.TryAddSingleton<OrderDesk>();
        services.AddSingleton<ITool, LookupOrderTool>();
        services.AddSingleton<ITool, RefundOrderTool>();
    });
}
