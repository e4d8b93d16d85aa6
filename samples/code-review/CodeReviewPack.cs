using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Samples.CodeReview;

/// The forge of the code-review sample (agents/code-review.yaml, docs/cases/code-review.md): a bare
/// git repository and a SQLite table of pull requests and reviews (Tools:Forge), standing in for
/// GitHub. The checkout lands in the run's workspace, the one the sandbox's run_shell works in.
public static class CodeReviewPack
{
    public static ToolPack Pack { get; } = ToolPack.Of([PullRequestTool.Descriptor, CheckoutTool.Descriptor, OpenFixTool.Descriptor], (services, _) =>
    {
        services.AddOptions<CodeForgeOptions>().BindConfiguration(CodeForgeOptions.Section);
        services.AddOptions<FileToolOptions>().BindConfiguration(FileToolOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RunWorkspace>();
        services.TryAddSingleton<CodeForge>();
        services.AddSingleton<ITool, PullRequestTool>();
        services.AddSingleton<ITool, CheckoutTool>();
        services.AddSingleton<ITool, OpenFixTool>();
    });
}
