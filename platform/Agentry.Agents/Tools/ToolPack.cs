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

    /// Registers the implementations (one ITool each) and their options.
    public abstract void AddImplementations(IServiceCollection services, IConfiguration configuration);

    /// A pack of these tools. When `offered` says no for a configuration, the pack offers and
    /// registers nothing under it (web_search without a configured provider).
    public static ToolPack Of(IReadOnlyList<ToolDescriptor> tools, Action<IServiceCollection, IConfiguration> addImplementations, Func<IConfiguration?, bool>? offered = null) =>
        new DelegatePack(tools, addImplementations, offered ?? (_ => true));

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
