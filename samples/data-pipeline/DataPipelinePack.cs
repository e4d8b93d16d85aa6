using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.DataPipeline;

/// The warehouse of the data-pipeline sample (agents/data-pipeline.yaml, docs/cases/data-pipeline.md):
/// a small SQLite warehouse with a staging copy (Tools:Warehouse), its pipelines' runs and logs,
/// read-only inspection, and migrations that are tried on staging and promoted to production.
public static class DataPipelinePack
{
    public static ToolPack Pack { get; } = ToolPack.Of(
        [PipelineRunsTool.Descriptor, PipelineLogsTool.Descriptor, DescribeSchemaTool.Descriptor, QueryWarehouseTool.Descriptor, StageMigrationTool.Descriptor, PromoteMigrationTool.Descriptor],
        (services, _) =>
        {
            services.AddOptions<WarehouseOptions>().BindConfiguration(WarehouseOptions.Section);
            services.TryAddSingleton<Warehouse>();
            services.AddSingleton<ITool, PipelineRunsTool>();
            services.AddSingleton<ITool, PipelineLogsTool>();
            services.AddSingleton<ITool, DescribeSchemaTool>();
            services.AddSingleton<ITool, QueryWarehouseTool>();
            services.AddSingleton<ITool, StageMigrationTool>();
            services.AddSingleton<ITool, PromoteMigrationTool>();
        });
}
