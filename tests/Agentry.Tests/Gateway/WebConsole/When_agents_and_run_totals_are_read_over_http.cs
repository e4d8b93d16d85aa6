using System.Net;
using System.Net.Http.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Memory;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.WebConsole;

/// GET /agents, GET /agents/{name} and GET /runs/totals over real Kestrel with every service behind
/// it: the shipped agents, plus one whose definition holds values that are secrets (a Slack URL,
/// a notify webhook with a token) and names a webhook secret that is configured here.
public sealed class When_agents_and_run_totals_are_read_over_http : AgentryServerFixture
{
    private const string SlackToken = "slack-token-3f9c1d";
    private const string WebhookToken = "hook-token-77ab20";
    private const string SigningSecret = "signing-secret-5e0d94";

    private static readonly DateTimeOffset MondayMidnight = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset Monday = MondayMidnight.AddHours(9);

    protected override void Configure(Dictionary<string, string?> settings)
    {
        var agents = Directory.CreateDirectory(Folder.File("agents")).FullName;
        foreach (var file in Directory.EnumerateFiles(TestAgents.RepositoryAgentsFolder(), "*.yaml"))
        {
            File.Copy(file, Path.Combine(agents, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(agents, "secretive.yaml"), $$"""
            description: Tells the time, and tells people about it.
            instructions: Use current_time.
            tools: [current_time]
            notify:
              webhook: https://hooks.example.com/agentry/{{WebhookToken}}?token={{WebhookToken}}
              slack: https://hooks.slack.com/services/T000/B000/{{SlackToken}}
              email: [oncall@example.com]
            triggers:
              - name: pinged
                webhook: hmac
                secret: secretive_ping
                signature_header: X-Signature
                goal: "What time is it?"
              - name: acme-only
                schedule: "0 7 * * *"
                tenant: acme
                goal: "What time is it in acme's morning?"
            """);
        settings["Agents:Path"] = agents;
        settings["Triggers:Secrets:secretive_ping"] = SigningSecret;
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";
    }

    [Test]
    public async Task Should_list_every_agent_with_its_tools_permissions_limits_and_triggers()
    {
        var agents = (await Http.GetFromJsonAsync<AgentList>("/agents"))!.Agents;

        var shipped = Directory.EnumerateFiles(TestAgents.RepositoryAgentsFolder(), "*.yaml").Select(Path.GetFileNameWithoutExtension).Append("secretive").Order(StringComparer.Ordinal);
        Assert.That(agents.Select(a => a.Name), Is.EqualTo(shipped));
        var support = agents.Single(a => a.Name == "customer-support");
        var catalog = App.Services.GetRequiredService<AgentCatalog>().Find("customer-support")!;
        Assert.That((support.Description, support.Instructions, support.SourceFile), Is.EqualTo((catalog.Description, catalog.Instructions, "customer-support.yaml")));
        var refund = support.Tools.Single(t => t.Name == "refund_order");
        Assert.That((refund.NeedsApproval, refund.MaxCallsPerRun, refund.SideEffects, refund.Settings["escalate_above"]), Is.EqualTo((true, (int?)1, true, "500.00")));
        Assert.That(refund.Description, Is.Not.Empty);
        Assert.That(support.Tools.Single(t => t.Name == "lookup_order").NeedsApproval, Is.False);
        Assert.That(support.Limits, Is.EqualTo(new AgentLimitsView(catalog.Limits.MaxSteps, catalog.Limits.MaxTokens, catalog.Limits.MaxCost, catalog.Limits.Deadline, null)));
        Assert.That(support.Triggers.Select(t => (t.Name, t.Kind, t.Path, t.SecretName)), Is.EqualTo(new[] { ("new-ticket", "Webhook", (string?)"/hooks/customer-support/new-ticket", (string?)"zendesk_support") }));

        var coder = agents.Single(a => a.Name == "coder");
        Assert.That(coder.Tools.Where(t => t.Sandboxed).Select(t => t.Name), Is.Not.Empty, "the coder runs code in the sandbox");
    }

    [Test]
    public async Task Should_show_one_agent_with_its_schedules_next_three_fire_times()
    {
        var before = DateTimeOffset.UtcNow;
        var research = (await Http.GetFromJsonAsync<AgentView>("/agents/market-research"))!;

        var schedule = research.Triggers.Single(t => t.Name == "weekday-report").Schedule!;
        Assert.That((schedule.Cron, schedule.TimeZone, schedule.Paused), Is.EqualTo(("0 6 * * 1-5", "America/New_York", false)));
        Assert.That(schedule.NextFires, Has.Count.EqualTo(3));
        Assert.That(schedule.NextFires.Select(f => f.Utc), Is.Ordered.And.All.GreaterThan(before));
        Assert.That(schedule.NextFires.Select(f => (f.Local.Hour, f.Local.DayOfWeek)), Has.All.Matches<(int Hour, DayOfWeek Day)>(f => f.Hour == 6 && f.Day is not DayOfWeek.Saturday and not DayOfWeek.Sunday));
        Assert.That(research.Limits.Deadline, Is.EqualTo(TimeSpan.FromMinutes(20)));

        await Http.PostAsync("/schedules/market-research/weekday-report/pause", null);
        Assert.That((await Http.GetFromJsonAsync<AgentView>("/agents/market-research"))!.Triggers.Single().Schedule!.Paused, Is.True, "the pause state is GET /schedules'");
    }

    [Test]
    public async Task Should_answer_an_unknown_agent_404_naming_the_known_ones()
    {
        using var response = await Http.GetAsync("/agents/nobody");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Unknown agent 'nobody'. Known agents: assistant, code-review"));
    }

    [Test]
    public async Task Should_never_show_a_secret_of_a_definition()
    {
        var list = await Http.GetStringAsync("/agents");
        var one = await Http.GetStringAsync("/agents/secretive");
        foreach (var answer in new[] { list, one })
        {
            Assert.That(answer, Does.Contain("secretive_ping"), "the secret's name is shown, so that an operator knows what to configure");
            Assert.That(answer, Does.Not.Contain(SlackToken).And.Not.Contain(WebhookToken).And.Not.Contain(SigningSecret).And.Not.Contain("hooks.slack.com"));
        }

        var secretive = (await Http.GetFromJsonAsync<AgentView>("/agents/secretive"))!;
        Assert.That(secretive.Notify, Is.EqualTo(new AgentNotifyView("https://hooks.example.com", Slack: true, ["oncall@example.com"])).Using<AgentNotifyView>((a, b) => a.Webhook == b.Webhook && a.Slack == b.Slack && a.Email.SequenceEqual(b.Email)));
        Assert.That(secretive.Triggers.Select(t => t.Name), Is.EqualTo(new[] { "pinged" }), "acme's trigger is acme's");

        var acme = await ClientAsync("acme", [GatewayRoles.Read]);
        Assert.That((await acme.GetFromJsonAsync<AgentView>("/agents/secretive"))!.Triggers.Select(t => (t.Name, t.TenantId)), Is.EqualTo(new[] { ("acme-only", "acme") }));
    }

    [Test]
    public void Should_withhold_a_setting_named_like_a_credential() =>
        Assert.That(new[] { "api_key", "webhook-token", "password", "client_secret", "escalate_above", "max_touches", "monkey" }.Select(AgentsApi.NamedLikeACredential),
            Is.EqualTo(new[] { true, true, true, true, false, false, false }));

    private async Task RecordAsync(string tenant, string agent, DateTimeOffset started, RunStatus? ended, int inputTokens = 0, decimal cost = 0m)
    {
        var store = App.Services.GetRequiredService<ITranscriptStore>();
        var run = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(run, tenant, agent, "recorded for the totals", null, started), CancellationToken.None);
        if (ended is { } status)
        {
            await store.EndRunAsync(new RunEnd(run, tenant, agent, status, null, null, 2, new TokenUsage(inputTokens, 10), started.AddMinutes(1), cost), CancellationToken.None);
        }
    }

    private static string Window(DateTimeOffset since, DateTimeOffset until) =>
        $"since={Uri.EscapeDataString(since.ToString("O"))}&until={Uri.EscapeDataString(until.ToString("O"))}";

    [Test]
    public async Task Should_total_the_runs_per_agent_per_day_and_tenant()
    {
        var tenant = ServiceDefaults.Extensions.DefaultTenant;
        await RecordAsync(tenant, "customer-support", Monday, RunStatus.Completed, 100, 0.01m);
        await RecordAsync(tenant, "customer-support", Monday.AddHours(2), RunStatus.Failed, 50, 0.02m);
        await RecordAsync(tenant, "customer-support", Monday.AddDays(1), RunStatus.Completed, 10, 0.005m);
        await RecordAsync(tenant, "assistant", Monday.AddDays(1), null);
        await RecordAsync("acme", "customer-support", Monday, RunStatus.Completed, 7, 1m);

        var totals = (await Http.GetFromJsonAsync<RunTotals>($"/runs/totals?{Window(MondayMidnight, MondayMidnight.AddDays(7))}"))!;
        var (monday, tuesday) = (DateOnly.FromDateTime(Monday.UtcDateTime), DateOnly.FromDateTime(Monday.UtcDateTime).AddDays(1));
        Assert.That(totals.TenantId, Is.EqualTo(tenant));
        Assert.That(totals.Days, Is.EqualTo(new[]
        {
            new AgentDayTotals("customer-support", monday, 2, 1, 1, 0, 0, 0, 0.5, new TokenUsage(150, 20), 0.03m),
            new AgentDayTotals("assistant", tuesday, 1, 0, 0, 0, 0, 1, null, TokenUsage.None, 0m),
            new AgentDayTotals("customer-support", tuesday, 1, 1, 0, 0, 0, 0, 1, new TokenUsage(10, 10), 0.005m),
        }));

        var supportOnMonday = (await Http.GetFromJsonAsync<RunTotals>($"/runs/totals?agent=customer-support&{Window(MondayMidnight, MondayMidnight.AddDays(1))}"))!;
        Assert.That(supportOnMonday.Days.Select(d => (d.Agent, d.Day, d.Runs)), Is.EqualTo(new[] { ("customer-support", monday, 2) }));

        // Another tenant: its own totals; only an admin names another tenant.
        var acme = await ClientAsync("acme", [GatewayRoles.Read]);
        Assert.That((await acme.GetFromJsonAsync<RunTotals>($"/runs/totals?{Window(MondayMidnight, MondayMidnight.AddDays(7))}"))!.Days.Select(d => (d.Agent, d.Cost)), Is.EqualTo(new[] { ("customer-support", 1m) }));
        var reader = await ClientAsync(tenant, [GatewayRoles.Read]);
        using (var refused = await reader.GetAsync($"/runs/totals?tenant=acme&{Window(MondayMidnight, MondayMidnight.AddDays(7))}"))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("only the admin role reads another tenant's totals"));
        }

        Assert.That((await reader.GetFromJsonAsync<RunTotals>($"/runs/totals?tenant={tenant}&{Window(MondayMidnight, MondayMidnight.AddDays(7))}"))!.Days, Has.Count.EqualTo(3), "naming one's own tenant is no filter");
        var asAdmin = (await Http.GetFromJsonAsync<RunTotals>($"/runs/totals?tenant=acme&{Window(MondayMidnight, MondayMidnight.AddDays(7))}"))!;
        Assert.That((asAdmin.TenantId, asAdmin.Days.Single().Cost), Is.EqualTo(("acme", 1m)));
    }

    [Test]
    public async Task Should_count_the_last_seven_days_when_no_window_is_given()
    {
        await RecordAsync(ServiceDefaults.Extensions.DefaultTenant, "assistant", DateTimeOffset.UtcNow.AddMinutes(-5), RunStatus.Completed, 3, 0.001m);
        await RecordAsync(ServiceDefaults.Extensions.DefaultTenant, "assistant", DateTimeOffset.UtcNow.AddDays(-8), RunStatus.Completed, 3, 0.001m);

        var totals = (await Http.GetFromJsonAsync<RunTotals>("/runs/totals"))!;

        Assert.That(totals.Until - totals.Since, Is.EqualTo(TimeSpan.FromDays(7)));
        Assert.That(totals.Days.Sum(d => d.Runs), Is.EqualTo(1));
    }

    [TestCase("since=yesterday", "'since' is 'yesterday', not a time: give an ISO 8601 time such as 2026-12-01T00:00:00Z.")]
    [TestCase("until=soon", "'until' is 'soon', not a time")]
    [TestCase("since=2026-12-02&until=2026-12-01", "is not before 'until'")]
    [TestCase("since=2024-01-01&until=2026-01-01", "it may span at most 366 days.")]
    [TestCase("from=2026-12-01", "'from' is not a filter of the totals; they take since, until, agent, tenant.")]
    public async Task Should_refuse_a_query_it_cannot_read_and_say_what_it_takes(string query, string problem)
    {
        using var response = await Http.GetAsync($"/runs/totals?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(problem));
    }
}
