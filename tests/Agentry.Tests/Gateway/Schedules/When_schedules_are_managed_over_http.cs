using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Agentry.Gateway.Triggers.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.Schedules;

/// `agentry serve` with agents that have schedules, on the real clock: the Gateway fires them, shows
/// them (GET /schedules, history), pauses and resumes them for the manage role with an audit entry,
/// and a scheduled run records what triggered it; `agentry agents` and `agentry schedules` show it all.
public sealed class When_schedules_are_managed_over_http
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private TempFolder _folder = null!;
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private string _key = null!;

    private string Agents => _folder.File("agents");

    private GatewayTarget Target => new(_http.BaseAddress!.ToString(), _key);

    [SetUp]
    public async Task StartServer()
    {
        _folder = new TempFolder();
        Directory.CreateDirectory(Agents);
        await File.WriteAllTextAsync(Path.Combine(Agents, "reporter.yaml"), """
            description: Writes reports on a schedule.
            instructions: Answer with the report.
            tools: [calculator]
            triggers:
              - name: weekday-report
                schedule: "0 6 * * 1-5"
                time_zone: Europe/Berlin
                misfire: run-once
                goal: "Write the report for {{date}}"
              - name: heartbeat
                schedule: "* * * * * *"
                goal: "Say that all is well at {{time}} on {{weekday}}"
              - name: new-pull-request
                webhook: github
                secret: github-reviews
                goal: "Review {{pull_request.title}}"
              - name: order-delayed
                event:
                  exchange: orders
                  routing_key: order.delayed
                goal: "Tell the customer about {{order.id}}"
            """);
        _app = Commands.BuildServer(Agents, "http://127.0.0.1:0", verbose: false, new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString });
        await _app.StartAsync();
        _key = await KeyAsync(GatewayRoles.All);
        _http = Client(_key);
    }

    [TearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<string> KeyAsync(IReadOnlyList<string> roles)
    {
        var issued = ApiKeys.Issue(ServiceDefaults.Extensions.DefaultTenant, "scheduler test", roles, "test", DateTimeOffset.UtcNow);
        await _app.Services.GetRequiredService<IApiKeyStore>().AddAsync(issued.Key, CancellationToken.None);
        return issued.Secret;
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(_app) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<(int Exit, string Output, string Error)> Cli(Func<TextWriter, TextWriter, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await command(output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Test]
    public async Task Should_show_each_agents_triggers_and_next_fire_times_in_agentry_agents()
    {
        var (exit, output, error) = await Cli((o, e) => Commands.ListAgentsAsync(Agents, o, e));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        Assert.That(output, Does.Contain("  triggers:")
            .And.Contain("    weekday-report: schedule \"0 6 * * 1-5\" in Europe/Berlin, misfire run-once")
            .And.Contain("    heartbeat: schedule \"* * * * * *\" in UTC, misfire skip")
            .And.Contain("    new-pull-request: webhook (github signature, secret github-reviews), POST /hooks/reporter/new-pull-request")
            .And.Contain("    order-delayed: event on exchange orders (topic), routing key order.delayed"));
        var next = output.Split('\n').First(l => l.StartsWith("      next:", StringComparison.Ordinal) && l.Contains("06:00:00 +0", StringComparison.Ordinal));
        Assert.That(next.Split(';'), Has.Length.EqualTo(3), next);
        Assert.That(next, Does.Match(@"06:00:00 \+0[12]:00 \(\d{4}-\d\d-\d\d 0[45]:00:00 UTC\)"), "local time in the zone, and UTC beside it");
    }

    [Test]
    public async Task Should_fire_a_schedule_and_record_in_the_run_what_triggered_it()
    {
        var fired = await Eventually.Until(async () =>
        {
            var history = await _http.GetFromJsonAsync<ScheduleHistory>("/schedules/reporter/heartbeat/history", Web);
            return history!.Entries.FirstOrDefault(e => e.Kind == ScheduleEntryKind.Fired);
        }, "the every-second schedule to fire");

        var run = await Eventually.RunAsync(_http, fired.RunId!.Value, _ => true, "the scheduled run to be recorded");
        Assert.That((run.Trigger, run.Origin!.Name, run.Origin.DueAt, run.Origin.Source), Is.EqualTo((TriggerKind.Schedule, "heartbeat", (DateTimeOffset?)fired.Due, "* * * * * * (UTC)")));
        Assert.That(run.Goal, Does.StartWith($"Say that all is well at {fired.Due.UtcDateTime:HH:mm} on {fired.Due.DayOfWeek}"));

        var (exit, output, error) = await Cli((o, e) => ScheduleCommands.HistoryAsync(Target, "reporter", "heartbeat", 50, o, e, CancellationToken.None));
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        Assert.That(output, Does.Contain($"fired: run {fired.RunId}"));
    }

    [Test]
    public async Task Should_pause_and_resume_a_schedule_for_the_manage_role_with_an_audit_entry()
    {
        var listed = await _http.GetFromJsonAsync<ScheduleList>("/schedules", Web);
        var report = listed!.Schedules.Single(s => s.Trigger == "weekday-report");
        Assert.That((report.Agent, report.Cron, report.TimeZone, report.Misfire, report.Paused, report.NextFires.Count), Is.EqualTo(("reporter", "0 6 * * 1-5", "Europe/Berlin", "run-once", false, 3)));
        Assert.That(report.NextFires.Select(f => (f.Local.Hour, f.Local.Minute)), Is.All.EqualTo((6, 0)));
        Assert.That(listed.Schedules.Select(s => s.Trigger), Is.EquivalentTo(new[] { "weekday-report", "heartbeat" }), "webhooks and events are not schedules");

        using (var reader = Client(await KeyAsync([GatewayRoles.Read])))
        using (var refused = await reader.PostAsync("/schedules/reporter/weekday-report/pause", null))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        }

        var (exit, output, error) = await Cli((o, e) => ScheduleCommands.SetPausedAsync(Target, "reporter", "weekday-report", paused: true, o, e, CancellationToken.None));
        Assert.That((exit, output.Trim()), Is.EqualTo((ExitCodes.Completed, "Paused reporter/weekday-report: its due times are recorded as skipped until it is resumed.")), error);
        (exit, output, error) = await Cli((o, e) => ScheduleCommands.ListAsync(Target, o, e, CancellationToken.None));
        Assert.That(output, Does.Contain("reporter/weekday-report  \"0 6 * * 1-5\" in Europe/Berlin, misfire run-once  PAUSED since").And.Contain("by scheduler test"), error);

        var audit = await Eventually.Until(async () =>
        {
            var trail = await _http.GetFromJsonAsync<AuditTrail>("/audit", Web);
            return trail!.Entries.FirstOrDefault(e => e.Action == "schedule.paused");
        }, "the pause in the audit trail");
        Assert.That(audit.Target, Is.EqualTo("schedule reporter/weekday-report"));

        (exit, output, _) = await Cli((o, e) => ScheduleCommands.SetPausedAsync(Target, "reporter", "weekday-report", paused: false, o, e, CancellationToken.None));
        Assert.That(output.Trim(), Is.EqualTo("Resumed reporter/weekday-report: it fires again from its next due time."));
        Assert.That((await _http.GetFromJsonAsync<ScheduleList>("/schedules", Web))!.Schedules.Single(s => s.Trigger == "weekday-report").Paused, Is.False);

        (exit, _, error) = await Cli((o, e) => ScheduleCommands.SetPausedAsync(Target, "reporter", "nightly", paused: true, o, e, CancellationToken.None));
        Assert.That((exit, error.Trim()), Is.EqualTo((ExitCodes.BadInput, "No schedule reporter/nightly is known. Schedules: reporter/weekday-report, reporter/heartbeat.")));
    }
}
