using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.Tests.EndToEnd;
using Agentry.Tests.Llm;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Cases;

/// `agentry serve` with the shipped lead-outreach agent, its model the scripted fake and its CRM a
/// fresh sample database. The API key is the sales rep's (sam.patel), who decides the approvals.
/// The CRM's clock is the real one, so the test lets days pass by moving the CRM's dates back, as
/// they would look after those days (PassDaysAsync), and records the email service's events as
/// rows, as a real CRM's webhook consumer would.
public sealed class LeadOutreachServer : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;
    private WebApplication _server = null!;

    private LeadOutreachServer()
    {
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

    public string Crm => $"Data Source={_folder.File("crm.db")};Pooling=False";

    public static async Task<LeadOutreachServer> StartAsync()
    {
        var server = new LeadOutreachServer();
        server._server = Commands.BuildServer(TestAgents.RepositoryAgentsFolder(), "http://127.0.0.1:0", verbose: false, new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = server._folder.SqliteConnectionString,
            ["Tools:Crm:ConnectionString"] = server.Crm,
            ["Llm:DefaultProvider"] = "scripted",
            ["Llm:Providers:scripted:Kind"] = "openai-compatible",
            ["Llm:Providers:scripted:Endpoint"] = server.Model.BaseUrl.ToString(),
            ["Llm:Providers:scripted:MaxRetries"] = "0",
            ["Llm:Prices:gpt-4o-mini:InputPerMillion"] = "150",
            ["Llm:Prices:gpt-4o-mini:OutputPerMillion"] = "600",
            // The schedule is proven on its own (When_the_lead_outreach_schedule_is_due).
            ["Triggers:Schedules:Enabled"] = "false",
        });
        await server._server.StartAsync();
        var key = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "sam.patel", GatewayRoles.All, "test", DateTimeOffset.UtcNow);
        await server._server.Services.GetRequiredService<IApiKeyStore>().AddAsync(key.Key, CancellationToken.None);
        server.Http = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(server._server) };
        server.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Secret);
        return server;
    }

    public async Task<Guid> StartRunAsync(string goal)
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "lead-outreach", goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
    }

    /// The run's undecided approvals once there are `count` of them, in call order.
    /// The run's calls waiting for the rep, once there are count of them. A decision is recorded after
    /// its POST is answered, so the calls just decided are named to be left out, or they would count.
    public async Task<List<ApprovalView>> PendingApprovalsAsync(Guid runId, int count, IEnumerable<ApprovalView>? decided = null)
    {
        var decidedCalls = (decided ?? []).Select(a => a.CallId).ToHashSet(StringComparer.Ordinal);
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(100))
        {
            var pending = (await Http.GetFromJsonAsync<PendingApprovals>("/approvals", JsonSerializerOptions.Web))!.Approvals
                .Where(a => a.RunId == runId && a.Approved is null && !decidedCalls.Contains(a.CallId)).OrderBy(a => a.CallId, StringComparer.Ordinal).ToList();
            if (pending.Count >= count)
            {
                return pending;
            }
        }

        throw new AssertionException($"run {runId} never waited for {count} approval(s); the model was asked {Model.RequestCount} times");
    }

    public async Task DecideAsync(Guid runId, ApprovalView approval, bool approved, string comment)
    {
        using var decided = await Http.PostAsJsonAsync($"/runs/{runId}/approvals/{approval.CallId}", new { approved, comment });
        Assert.That(decided.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await decided.Content.ReadAsStringAsync());
    }

    public async Task<RunView> EndedRunAsync(Guid runId)
    {
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(50))
        {
            using var response = await Http.GetAsync(new Uri($"/runs/{runId}", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                var run = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<RunView>(JsonSerializerOptions.Web))!;
                if (run.Status is not RunStatus.Running)
                {
                    return run;
                }
            }

            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), $"run {runId} did not end within a minute");
        }
    }

    /// The tool spans of one run, as "STEP TOOL STATUS", in step and tool order.
    public IReadOnlyList<string> ToolSpansOf(Guid runId) =>
        [.. _spans.Where(span => span.GetTagItem(AgentryTelemetry.Tags.RunId) as string == runId.ToString() && span.OperationName.StartsWith("execute_tool ", StringComparison.Ordinal))
            .Select(span => $"{span.GetTagItem(AgentryTelemetry.Tags.Step)} {span.OperationName["execute_tool ".Length..]} {span.Status}").Order(StringComparer.Ordinal)];

    public async Task<List<string>> RowsAsync(string sql)
    {
        await using var db = new SqliteConnection(Crm);
        await db.OpenAsync();
        return await SqliteRows.Query(db, sql);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var db = new SqliteConnection(Crm);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// The CRM as it looks `days` later: every date moved back by that many days.
    public Task PassDaysAsync(int days) => ExecuteAsync($"""
        UPDATE leads SET next_touch_on = date(next_touch_on, '-{days} days'), created_on = date(created_on, '-{days} days');
        UPDATE outbox SET queued_at = strftime('%Y-%m-%dT%H:%M:%SZ', queued_at, '-{days} days');
        UPDATE activities SET at = strftime('%Y-%m-%dT%H:%M:%SZ', at, '-{days} days');
        UPDATE tasks SET due_on = date(due_on, '-{days} days'), created_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '-{days} days');
        """);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        Http?.Dispose();
        await _server.DisposeAsync();
        Model.Dispose();
        _folder.Dispose();
    }
}
