using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.LeadOutreach;

/// The lead-outreach sample (agents/lead-outreach.yaml, docs/cases/lead-outreach.md): a small CRM in
/// SQLite (Tools:Crm) with leads, their activity as the email service records it (sent, opened,
/// replied, bounced, unsubscribed), the outbox and the sales reps' tasks, and the public pages of the
/// leads' companies to research. Demo leads on first use.
public static class LeadOutreachPack
{
    public static ToolPack Pack { get; } = ToolPack.Of(
        [LeadsDueTool.Descriptor, LeadActivityTool.Descriptor, CompanyResearchTool.Descriptor, SendEmailTool.Descriptor, SendFollowUpTool.Descriptor, ScheduleFollowUpTool.Descriptor, LogTaskTool.Descriptor],
        (services, _) =>
        {
            services.AddOptions<CrmOptions>().BindConfiguration(CrmOptions.Section);
            services.TryAddSingleton<Crm>();
            services.AddSingleton<ITool, LeadsDueTool>();
            services.AddSingleton<ITool, LeadActivityTool>();
            services.AddSingleton<ITool, CompanyResearchTool>();
            services.AddSingleton<ITool, SendEmailTool>();
            services.AddSingleton<ITool, SendFollowUpTool>();
            services.AddSingleton<ITool, ScheduleFollowUpTool>();
            services.AddSingleton<ITool, LogTaskTool>();
        });
}
