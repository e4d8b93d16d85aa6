using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Agentry.Cli;
using Agentry.Gateway.Security;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.Tests.EndToEnd;
using Agentry.Tests.Llm;
using Agentry.Tests.Notifier;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Agentry.Tests.Cases;

/// `agentry serve` with the shipped market-research agent, its model the scripted fake, and its
/// channels caught here: a local HTTP listener as the Slack webhook and a local SMTP server as the
/// mail relay. The agent is the repository's file with the notify targets it ships commented out
/// (a Slack URL is a secret) declared, and, when a test asks, a shorter deadline. The Notifier
/// delivers after the run ends, so a test waits for the messages rather than for a CLI to return.
public sealed class MarketResearchServer : IAsyncDisposable
{
    private readonly Channel<JsonElement> _slack = Channel.CreateUnbounded<JsonElement>();
    private readonly TempFolder _folder = new();
    private WebApplication _slackApp = null!;
    private WebApplication _server = null!;
    private TestSmtpServer _smtp = null!;
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    private MarketResearchServer()
    {
        // The run's spans as every service in the process ends them (other tests' runs are told
        // apart by the run id each span carries).
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AgentryTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public OpenAiFake Model { get; } = OpenAiFake.Start();

    public HttpClient Http { get; private set; } = null!;

    private string Market => $"Data Source={_folder.File("market.db")};Pooling=False";

    public static async Task<MarketResearchServer> StartAsync(string? deadline = null)
    {
        var server = new MarketResearchServer();
        await server.StartInsideAsync(deadline);
        return server;
    }

    private async Task StartInsideAsync(string? deadline)
    {
        Uri slackBase;
        (_slackApp, slackBase) = await LocalHttpServer.StartAsync(app => app.MapPost("/slack/T1/B1/secret", async (HttpRequest request) =>
        {
            await _slack.Writer.WriteAsync((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Text("ok");
        }));
        _smtp = await TestSmtpServer.StartAsync();

        var shipped = await File.ReadAllTextAsync(Path.Combine(TestAgents.RepositoryAgentsFolder(), "market-research.yaml"));
        Assert.That(shipped, Does.Contain("\n# notify:").And.Contain("deadline: 20m"), "the shipped agent changed: update this test's additions to it");
        var agent = shipped + $"""

            notify:
              slack: {new Uri(slackBase, "/slack/T1/B1/secret")}
              email: [research-desk@example.com]
            """;
        if (deadline is not null)
        {
            agent = agent.Replace("deadline: 20m", $"deadline: {deadline}", StringComparison.Ordinal);
        }

        Directory.CreateDirectory(_folder.File("agents"));
        await File.WriteAllTextAsync(Path.Combine(_folder.File("agents"), "market-research.yaml"), agent);
        _server = Commands.BuildServer(_folder.File("agents"), "http://127.0.0.1:0", verbose: false, new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
            ["Tools:Market:ConnectionString"] = Market,
            ["Llm:DefaultProvider"] = "scripted",
            ["Llm:Providers:scripted:Kind"] = "openai-compatible",
            ["Llm:Providers:scripted:Endpoint"] = Model.BaseUrl.ToString(),
            ["Llm:Providers:scripted:MaxRetries"] = "0",
            ["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150",
            ["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600",
            ["Notifier:Smtp:Host"] = "127.0.0.1",
            ["Notifier:Smtp:Port"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifier:Smtp:From"] = "Agentry <agentry@example.com>",
            ["Notifier:Smtp:StartTls"] = "false",
            // The schedule is proven on its own (When_the_market_research_schedule_is_due): here a
            // run starts only when the test asks, whatever the time of day.
            ["Triggers:Schedules:Enabled"] = "false",
        });
        await _server.StartAsync();
        var submitter = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "submitter", [GatewayRoles.Submit, GatewayRoles.Read], "test", DateTimeOffset.UtcNow);
        await _server.Services.GetRequiredService<IApiKeyStore>().AddAsync(submitter.Key, CancellationToken.None);
        Http = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(_server) };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", submitter.Secret);
    }

    public async Task<Guid> StartRunAsync(string goal, object input)
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "market-research", goal, input });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
    }

    /// The run once Memory has recorded its end (Memory and the Notifier each follow the end on
    /// their own queue, so either may come first).
    public async Task<JsonElement> EndedRunAsync(Guid runId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            // 404 until Memory has recorded the run's start.
            using var response = await Http.GetAsync(new Uri($"/runs/{runId}", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                var run = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
                if (run.GetProperty("status").GetString() != "Running")
                {
                    return run;
                }
            }

            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the run did not end within a minute");
            await Task.Delay(50);
        }
    }

    public async Task<JsonElement> SlackMessageAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await _slack.Reader.ReadAsync(timeout.Token);
    }

    public async Task<MimeMessage> MailAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!_smtp.Messages.TryPeek(out _))
        {
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "no mail arrived within 30 s");
            await Task.Delay(20);
        }

        return _smtp.Messages.Single();
    }

    /// The spans of one run that have ended so far.
    public IReadOnlyList<Activity> SpansOf(Guid runId) =>
        [.. _spans.Where(span => span.GetTagItem(AgentryTelemetry.Tags.RunId) as string == runId.ToString())];

    public async Task<List<string>> WikiAsync(string sql)
    {
        await using var db = new SqliteConnection(Market);
        await db.OpenAsync();
        return await SqliteRows.Query(db, sql);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        Http?.Dispose();
        await _server.DisposeAsync();
        await _slackApp.DisposeAsync();
        await _smtp.DisposeAsync();
        Model.Dispose();
        _folder.Dispose();
    }
}
