using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.PriorAuth;

/// The EHR and the payer of the prior-authorization sample (agents/prior-auth.yaml,
/// docs/cases/prior-auth.md): the patient's chart, the payer's eligibility and formulary, and the
/// payer portal's PA submissions, in SQLite (Tools:PriorAuth), with synthetic demo patients.
public static class PriorAuthPack
{
    public static ToolPack Pack { get; } = ToolPack.Of(
        [PatientChartTool.Descriptor, PayerEligibilityTool.Descriptor, SubmitPriorAuthTool.Descriptor],
        (services, _) =>
        {
            services.AddOptions<HealthRecordsOptions>().BindConfiguration(HealthRecordsOptions.Section);
            services.TryAddSingleton<HealthRecords>();
            services.AddSingleton<ITool, PatientChartTool>();
            services.AddSingleton<ITool, PayerEligibilityTool>();
            services.AddSingleton<ITool, SubmitPriorAuthTool>();
        });
}
