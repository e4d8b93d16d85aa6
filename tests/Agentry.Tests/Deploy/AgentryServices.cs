using Agentry.Gateway.Tracing;
using Agentry.Cli;
using Agentry.Agents;
using System.Collections.Concurrent;
using Agentry.Evaluator;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Llm;
using Agentry.Memory;
using Agentry.Notifier;
using Agentry.Planner;
using Agentry.Planner.Deadlines;
using Agentry.Planner.Persistence;
using Agentry.ServiceDefaults;
using Agentry.ToolExecutor;
using Agentry.Tools;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Deploy;

/// What the deployment files must agree with, taken from the code: the services, the queues each
/// consumes (as MassTransit names them), and the configuration keys they read.
public static class AgentryServices
{
    /// Each service's registrations, as its Program.cs makes them, by folder under services/.
    public sealed record Registration(Action<IServiceCollection, IConfiguration> Services, Action<IBusRegistrationConfigurator, IConfiguration> Bus);

    public static readonly IReadOnlyDictionary<string, Registration> Registrations = new Dictionary<string, Registration>
    {
        ["Gateway"] = new((services, configuration) => services.AddGateway(configuration), (bus, _) => bus.AddGatewayClients()),
        ["Planner"] = new((services, configuration) => services.AddPlanner(configuration), (bus, configuration) => bus.AddPlannerConsumers(configuration)),
        ["ToolExecutor"] = new((services, configuration) => services.AddToolExecutor(configuration), (bus, _) => bus.AddToolExecutorConsumers()),
        ["Memory"] = new((services, configuration) => services.AddMemory(configuration), (bus, _) => bus.AddMemoryConsumers()),
        ["Evaluator"] = new((services, configuration) => services.AddEvaluator(configuration), (bus, _) => bus.AddEvaluatorConsumers()),
        ["Notifier"] = new((services, configuration) => services.AddNotifier(configuration), (bus, _) => bus.AddNotifierConsumers()),
    };

    /// The folders under services/ that hold a service (a Program.cs).
    public static IReadOnlyList<string> Folders { get; } = Directory.GetDirectories(Path.Combine(RepositoryFiles.Root, "services"))
        .Where(folder => File.Exists(Path.Combine(folder, "Program.cs")))
        .Select(Path.GetFileName)
        .Order(StringComparer.Ordinal)
        .ToList()!;

    /// ToolExecutor -> tool-executor: the name of the service in docker-compose and Kubernetes.
    public static string DeploymentName(string folder) =>
        string.Concat(folder.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    public static string ProjectPath(string folder) => $"services/{folder}/Agentry.{folder}.csproj";

    /// The queues a service consumes from: the endpoints MassTransit configures for its stage, through
    /// the same AddAgentryBus (and so the same endpoint name formatter) the service runs.
    public static async Task<IReadOnlySet<string>> QueuesAsync(string folder)
    {
        var names = new ConcurrentBag<string>();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Agents:Path"] = Path.Combine(RepositoryFiles.Root, "agents") })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddAgentryCore(configuration, $"agentry-{folder}").AddAgentTools(configuration);
        Registrations[folder].Services(services, configuration);
        services.AddAgentryBus(
            configuration,
            bus => Registrations[folder].Bus(bus, configuration),
            bus => bus.AddConfigureEndpointsCallback((name, _) => names.Add(name)));
        await using var provider = services.BuildServiceProvider();
        // Building the bus configures its endpoints; nothing is started.
        _ = provider.GetRequiredService<IBusControl>();
        // A process's own temporary queues (the Gateway's run events for the console) come and go
        // with it: nothing scales on them and the runbook has none to list.
        return names.Where(name => !name.StartsWith(Agentry.ServiceDefaults.Extensions.TemporaryEndpointPrefix, StringComparison.Ordinal)).ToHashSet();
    }

    /// Whether the service keeps state in Redis when the connection string `redis` is set: it then
    /// registers the shared connection.
    public static bool UsesRedis(string folder)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"ConnectionStrings:{RedisRegistration.ConnectionStringName}"] = "redis:6379" })
            .Build();
        var services = new ServiceCollection();
        Registrations[folder].Services(services, configuration);
        return services.Any(s => s.ServiceType == typeof(StackExchange.Redis.IConnectionMultiplexer));
    }

    /// Every service's queues, by folder.
    public static async Task<IReadOnlyDictionary<string, IReadOnlySet<string>>> AllQueuesAsync()
    {
        var queues = new Dictionary<string, IReadOnlySet<string>>();
        foreach (var folder in Folders)
        {
            queues[folder] = await QueuesAsync(folder);
        }

        return queues;
    }

    /// Configuration keys the services read, as environment variable names (':' written '__').
    public static IReadOnlySet<string> EnvironmentVariables { get; } = BuildEnvironmentVariables();

    /// Read by libraries and the runtime rather than by Agentry's options.
    public static readonly string[] ExternalPrefixes = ["OTEL_", "ASPNETCORE_", "DOTNET_", "Logging__"];

    private static HashSet<string> BuildEnvironmentVariables()
    {
        var sections = new (string Section, Type Options)[]
        {
            (AgentsOptions.Section, typeof(AgentsOptions)),
            (LlmOptions.Section, typeof(LlmOptions)),
            (PlannerOptions.Section, typeof(PlannerOptions)),
            (PlannerRedisOptions.Section, typeof(PlannerRedisOptions)),
            (EvaluatorRedisOptions.Section, typeof(EvaluatorRedisOptions)),
            (ToolExecutorOptions.Section, typeof(ToolExecutorOptions)),
            (ToolLedgerOptions.Section, typeof(ToolLedgerOptions)),
            (HttpGetTool.Section, typeof(HttpToolOptions)),
            (HttpPostTool.Section, typeof(HttpToolOptions)),
            (GatewayOptions.Section, typeof(GatewayOptions)),
            (SandboxOptions.Section, typeof(SandboxOptions)),
            (JaegerOptions.Section, typeof(JaegerOptions)),
        };
        var keys = sections
            .SelectMany(s => s.Options.GetProperties().Where(p => p.CanWrite).Select(p => $"{s.Section}:{p.Name}"))
            .Concat(new[] { "rabbitmq", RedisRegistration.ConnectionStringName, MemoryOptions.SqliteConnectionName, MongoMemoryDatabase.ConnectionName }.Select(name => $"ConnectionStrings:{name}"))
            // Read with GetValue in Extensions.AddAgentryBus / ConfigureAgentryBus.
            .Concat(new[] { "Bus:PrefetchCount", "Bus:QuorumQueues" })
            .Select(key => key.Replace(":", "__", StringComparison.Ordinal));
        // The Planner's fallback for Llm:ApiKey (LlmServiceCollectionExtensions).
        return keys.Append("OPENAI_API_KEY").ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public static bool IsRead(string variable) =>
        EnvironmentVariables.Contains(variable)
        || ExternalPrefixes.Any(prefix => variable.StartsWith(prefix, StringComparison.Ordinal))
        // List and dictionary options bind by index: Tools__HttpGet__AllowedHosts__0.
        || EnvironmentVariables.Any(key => variable.StartsWith(key + "__", StringComparison.OrdinalIgnoreCase));
}
