using Agentry.Gateway.Security;
using Agentry.Gateway.Stores.Sqlite;
using Agentry.Tests;

namespace Agentry.Distributed.Tests;

/// Every Agentry service as its own process, on a RabbitMQ virtual host of its own (so tests never
/// see each other's messages) and the real Redis.
public sealed class Deployment : IAsyncDisposable
{
    public static readonly string[] Services = ["Gateway", "Planner", "ToolExecutor", "Memory", "Evaluator", "Notifier"];

    private readonly List<ServiceProcess> _processes = [];
    private readonly string _folder;
    private readonly string? _virtualHost;
    private readonly RabbitMqServer? _broker;

    private Deployment(string amqpUrl, string? virtualHost, RabbitMqServer? broker, string folder, IReadOnlyDictionary<string, string> environment)
    {
        AmqpUrl = amqpUrl;
        _virtualHost = virtualHost;
        _broker = broker;
        _folder = folder;
        Environment = environment;
    }

    public string AmqpUrl { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }
    public IReadOnlyList<ServiceProcess> Processes => _processes;
    public string Logs => string.Join(System.Environment.NewLine, _processes.Select(p => p.Log));

    public static Task<Deployment> StartAsync(IReadOnlyDictionary<string, string>? extra = null, params string[] services) =>
        StartAsync(broker: null, extra, services);

    /// On a RabbitMQ node of the test's own (the default "/" virtual host), for a test that restarts
    /// the broker; otherwise on a virtual host of its own of the shared node.
    public static async Task<Deployment> StartAsync(RabbitMqServer? broker, IReadOnlyDictionary<string, string>? extra = null, params string[] services)
    {
        var baseUrl = broker?.AmqpUrl ?? TestServers.RequireRabbitMq();
        var redis = TestServers.RequireRedis();
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-distributed", Guid.NewGuid().ToString("N"))).FullName;
        var virtualHost = broker is null ? await CreateVirtualHostAsync($"agentry-test-{Guid.NewGuid():N}") : null;
        var amqpUrl = virtualHost is null ? baseUrl : new UriBuilder(baseUrl) { Path = "/" + Uri.EscapeDataString(virtualHost) }.Uri.ToString();
        // Deployments share one Redis, so each keeps its own keys, as two real deployments sharing a
        // Redis must: with one deadline set, a Planner of another deployment claimed this one's
        // deadlines and told its own broker, where no such run exists, and the run ran past them.
        var keys = $"agentry-test:{Guid.NewGuid():N}:";
        var environment = new Dictionary<string, string>
        {
            ["Planner__Redis__KeyPrefix"] = keys,
            ["Evaluator__Redis__KeyPrefix"] = keys,
            ["ToolExecutor__Redis__KeyPrefix"] = keys,
            ["Notifier__Redis__KeyPrefix"] = keys,
            ["Triggers__Schedules__KeyPrefix"] = keys,
            ["Agents__PinnedDefinitionKeyPrefix"] = keys + "agent-definition:",
            ["Llm__Cache__KeyPrefix"] = keys + "llm-cache:",
            ["ConnectionStrings__rabbitmq"] = amqpUrl,
            ["ConnectionStrings__redis"] = redis,
            ["ConnectionStrings__sqlite"] = $"Data Source={Path.Combine(folder, "agentry.db")}",
            ["Agents__Path"] = Path.Combine(Repository.Root, "agents"),
            // The shipped agents include schedules (market-research at 06:00 New York time): a test
            // that happens to run then must not get a run it never asked for. Schedule tests turn it on.
            ["Triggers__Schedules__Enabled"] = "false",
            ["Tools__HttpGet__AllowedHosts__0"] = "127.0.0.1",
            ["Tools__HttpGet__PrivateHosts__0"] = "127.0.0.1",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var deployment = new Deployment(amqpUrl, virtualHost, broker, folder, environment);
        try
        {
            var started = await Task.WhenAll((services.Length == 0 ? Services : services)
                .Select(service => ServiceProcess.StartAsync(service, "1", environment)));
            deployment._processes.AddRange(started);
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }

        return deployment;
    }

    /// A key of the deployment's own store (the SQLite file every service shares), as `agentry keys
    /// create` makes one; every role unless told otherwise.
    public async Task<string> IssueKeyAsync(string tenant = Agentry.ServiceDefaults.Extensions.DefaultTenant, string name = "test", params string[] roles)
    {
        var issued = ApiKeys.Issue(tenant, name, roles.Length == 0 ? GatewayRoles.All : roles, "distributed tests", DateTimeOffset.UtcNow);
        await new SqliteApiKeyStore(Environment["ConnectionStrings__sqlite"]).AddAsync(issued.Key, CancellationToken.None);
        return issued.Secret;
    }

    /// A client of the Gateway process with a new key of the default tenant and every role.
    public async Task<HttpClient> GatewayClientAsync(string instance = "1")
    {
        var http = new HttpClient { BaseAddress = Get("Gateway", instance).BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await IssueKeyAsync());
        return http;
    }

    public ServiceProcess Get(string service, string instance = "1") =>
        _processes.Single(p => p.Service == service && p.Instance == instance);

    public Task<ServiceProcess> StartAnotherAsync(string service, string instance) => StartAnotherAsync(service, instance, new Dictionary<string, string>());

    /// Another process with some settings of its own: a process of the next deploy (another agents folder, say).
    public async Task<ServiceProcess> StartAnotherAsync(string service, string instance, IReadOnlyDictionary<string, string> overrides)
    {
        var environment = new Dictionary<string, string>(Environment);
        foreach (var (name, value) in overrides)
        {
            environment[name] = value;
        }

        var process = await ServiceProcess.StartAsync(service, instance, environment);
        _processes.Add(process);
        return process;
    }

    /// The messages waiting in each `_error` queue (a message that failed its retries, or that this
    /// build could not read), from rabbitmqctl; the broker refreshes these counts every few seconds.
    public async Task<Dictionary<string, int>> ErrorQueueDepthsAsync()
    {
        string[] listQueues = ["list_queues", "-p", _virtualHost ?? "/", "name", "messages", "--quiet", "--no-table-headers"];
        var listing = _broker is not null ? await _broker.CtlAsync(listQueues) : await TestServers.RabbitMqCtlAsync(listQueues);
        Assert.That(listing, Is.Not.Null, "rabbitmqctl is needed to read the error queues");
        Assert.That(listing!.Value.ExitCode, Is.Zero, listing.Value.Output);
        return listing.Value.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t', ' '))
            .Where(parts => parts.Length >= 2 && parts[0].EndsWith("_error", StringComparison.Ordinal))
            .ToDictionary(parts => parts[0], parts => int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// What a failed assertion should show beside the logs: each queue's depth and consumers (a
    /// queue with messages and no consumer is a service that stopped consuming) and each service's
    /// readiness report.
    public async Task<string> DescribeAsync()
    {
        var report = new System.Text.StringBuilder();
        string[] listQueues = ["list_queues", "-p", _virtualHost ?? "/", "name", "messages", "messages_unacknowledged", "consumers", "--quiet", "--no-table-headers"];
        if ((_broker is not null ? await _broker.CtlAsync(listQueues) : _virtualHost is not null ? await TestServers.RabbitMqCtlAsync(listQueues) : null) is { ExitCode: 0 } queues)
        {
            report.AppendLine("queues (name, messages, unacknowledged, consumers):").AppendLine(queues.Output);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var process in _processes)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(process.BaseAddress, "/health/ready"));
                report.AppendLine($"{process.Service}/{process.Instance} /health/ready {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                report.AppendLine($"{process.Service}/{process.Instance} /health/ready unreachable: {e.Message}");
            }
        }

        return report.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask()));
        if (_virtualHost is not null)
        {
            await RabbitMqCtlAsync("delete_vhost", _virtualHost);
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the operating system's temp cleanup.
        }
    }

    /// A virtual host per deployment when rabbitmqctl can reach the broker (the server test.sh
    /// starts); otherwise the given URL's virtual host is shared and the tests say so.
    private static async Task<string?> CreateVirtualHostAsync(string name)
    {
        if (!await RabbitMqCtlAsync("add_vhost", name))
        {
            TestContext.Progress.WriteLine("rabbitmqctl is not available: the tests share the virtual host of RABBITMQ_URL.");
            return null;
        }

        await RabbitMqCtlAsync("set_permissions", "-p", name, "guest", ".*", ".*", ".*");
        return name;
    }

    private static async Task<bool> RabbitMqCtlAsync(params string[] arguments) =>
        await TestServers.RabbitMqCtlAsync(arguments) is { ExitCode: 0 };
}
