using System.Net.Http.Headers;
using Agentry.Cli;
using Agentry.Gateway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests;

/// `agentry serve` in this process, started for each test: the Gateway's HTTP API over real Kestrel
/// on a free loopback port, every service behind it, the repository's agents, and SQLite in a
/// folder of the test's own. Http carries an API key of the default tenant with every role.
public abstract class AgentryServerFixture
{
    protected TempFolder Folder { get; private set; } = null!;

    protected WebApplication App { get; private set; } = null!;

    /// A client whose base address is the server's, with a key of the default tenant and every role.
    protected HttpClient Http { get; private set; } = null!;

    private readonly List<HttpClient> _clients = [];

    /// Settings beyond the SQLite connection string, for example a tool's own database in Folder.
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    /// The agents the server loads: the repository's, unless a test writes its own.
    protected virtual string AgentsFolder => TestAgents.RepositoryAgentsFolder();

    [SetUp]
    public async Task StartServer()
    {
        Folder = new TempFolder();
        await StartAppAsync();
    }

    /// Stops the server and starts it again on the same folder and database, with what Configure
    /// gives now: as an operator restarts the Gateway after changing an agent's definition.
    protected async Task RestartServerAsync()
    {
        _clients.ForEach(client => client.Dispose());
        _clients.Clear();
        await App.StopAsync();
        await App.DisposeAsync();
        await StartAppAsync();
    }

    private async Task StartAppAsync()
    {
        // The shipped agents include schedules (market-research at 06:00 New York time): a test that
        // happens to run then must not get a run it never asked for.
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = Folder.SqliteConnectionString, ["Triggers:Schedules:Enabled"] = "false" };
        Configure(settings);
        App = Commands.BuildServer(AgentsFolder, "http://127.0.0.1:0", verbose: false, settings);
        await App.StartAsync();
        Http = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, GatewayRoles.All);
    }

    /// A new key of the tenant with the roles, in the server's store.
    protected async Task<string> CreateKeyAsync(string tenant, IReadOnlyList<string> roles, string name = "test")
    {
        var issued = ApiKeys.Issue(tenant, name, roles, "test fixture", DateTimeOffset.UtcNow);
        await App.Services.GetRequiredService<IApiKeyStore>().AddAsync(issued.Key, CancellationToken.None);
        return issued.Secret;
    }

    /// A client of the server with a new key of the tenant and roles (or with no credential).
    protected async Task<HttpClient> ClientAsync(string? tenant, IReadOnlyList<string>? roles = null, string name = "test")
    {
        var client = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(App) };
        if (tenant is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await CreateKeyAsync(tenant, roles ?? GatewayRoles.All, name));
        }

        _clients.Add(client);
        return client;
    }

    [TearDown]
    public async Task StopServer()
    {
        _clients.ForEach(client => client.Dispose());
        _clients.Clear();
        await App.StopAsync();
        await App.DisposeAsync();
        Folder.Dispose();
    }
}
