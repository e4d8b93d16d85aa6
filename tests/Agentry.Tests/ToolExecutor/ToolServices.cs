using Agentry.Cli;
using Agentry.Agents.Tools;
using Agentry.ToolExecutor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

/// The ToolExecutor's real registrations, with configuration given as key/value pairs.
public static class ToolServices
{
    public static IServiceCollection Create(IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddAgentTools(configuration);
        services.AddToolExecutor(configuration);
        return services;
    }

    public static ServiceProvider Build(IDictionary<string, string?>? settings = null, TimeProvider? clock = null) =>
        Create(settings, clock).BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
}
