using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Agents.Tools;

/// A family of tools as one unit: what the catalog tells the agent loader and the model about them,
/// and how the ToolExecutor gets their implementations. Every process registers the same packs
/// (AddToolPack), so that the loader, the Planner and the ToolExecutor agree on the tools; only the
/// ToolExecutor ever resolves an implementation.
public abstract class ToolPack
{
    /// The tools this configuration offers: a pack may offer a tool only when it is configured.
    public abstract IEnumerable<ToolDescriptor> Describe(IConfiguration? configuration);

    /// The tools this pack could offer but does not on this host, each with the reason.
    public virtual IEnumerable<(string Tool, string Reason)> Withheld(IConfiguration? configuration) => [];

    /// Registers the implementations (one ITool each) and their options.
    public abstract void AddImplementations(IServiceCollection services, IConfiguration configuration);

    /// A pack of these tools. When `offered` says no for a configuration, the pack offers and
    /// registers nothing under it (web_search without a configured provider).
    public static ToolPack Of(IReadOnlyList<ToolDescriptor> tools, Action<IServiceCollection, IConfiguration> addImplementations, Func<IConfiguration?, bool>? offered = null) =>
        new DelegatePack(tools, addImplementations, offered ?? (_ => true));

    /// A pack that is offered only where the host allows it: `unavailable` gives the reason it is
    /// not (the code sandbox without user namespaces), or null.
    public static ToolPack Withholdable(IReadOnlyList<ToolDescriptor> tools, Action<IServiceCollection, IConfiguration> addImplementations, Func<IConfiguration?, string?> unavailable) =>
        new WithholdablePack(tools, addImplementations, unavailable);

    private sealed class WithholdablePack(IReadOnlyList<ToolDescriptor> tools, Action<IServiceCollection, IConfiguration> add, Func<IConfiguration?, string?> unavailable) : ToolPack
    {
        public override IEnumerable<ToolDescriptor> Describe(IConfiguration? configuration) => unavailable(configuration) is null ? tools : [];

        public override IEnumerable<(string Tool, string Reason)> Withheld(IConfiguration? configuration) =>
            unavailable(configuration) is { } reason ? tools.Select(t => (t.Name, reason)) : [];

        public override void AddImplementations(IServiceCollection services, IConfiguration configuration)
        {
            if (unavailable(configuration) is null)
            {
                add(services, configuration);
            }
        }
    }

    private sealed class DelegatePack(IReadOnlyList<ToolDescriptor> tools, Action<IServiceCollection, IConfiguration> add, Func<IConfiguration?, bool> offered) : ToolPack
    {
        public override IEnumerable<ToolDescriptor> Describe(IConfiguration? configuration) => offered(configuration) ? tools : [];

        public override void AddImplementations(IServiceCollection services, IConfiguration configuration)
        {
            if (offered(configuration))
            {
                add(services, configuration);
            }
        }
    }
}
