using Agentry.Cli;
using Microsoft.AspNetCore.Builder;

namespace Agentry.Tests;

/// `agentry serve` in this process, started for each test: the Gateway's HTTP API over real Kestrel
/// on a free loopback port, every service behind it, the repository's agents, and SQLite in a
/// folder of the test's own.
public abstract class AgentryServerFixture
{
    protected TempFolder Folder { get; private set; } = null!;

    protected WebApplication App { get; private set; } = null!;

    /// A client whose base address is the server's.
    protected HttpClient Http { get; private set; } = null!;

    /// Settings beyond the SQLite connection string, for example a tool's own database in Folder.
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    [SetUp]
    public async Task StartServer()
    {
        Folder = new TempFolder();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = Folder.SqliteConnectionString };
        Configure(settings);
        App = Commands.BuildServer(TestAgents.RepositoryAgentsFolder(), "http://127.0.0.1:0", verbose: false, settings);
        await App.StartAsync();
        Http = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(App) };
    }

    [TearDown]
    public async Task StopServer()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Folder.Dispose();
    }
}
