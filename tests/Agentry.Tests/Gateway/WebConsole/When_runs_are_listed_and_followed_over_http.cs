using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Gateway.WebConsole;

namespace Agentry.Tests.Gateway.WebConsole;

/// What the console reads, over real Kestrel with every service behind it: GET /runs with its
/// filters, GET /runs/events (Server-Sent Events), GET /me, and the console's own files.
public sealed class When_runs_are_listed_and_followed_over_http : AgentryServerFixture
{
    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Tools:Orders:ConnectionString"] = $"Data Source={Folder.File("orders.db")};Pooling=False";

    private static async Task<Guid> StartAsync(HttpClient client, string agent, string goal)
    {
        using var response = await client.PostAsJsonAsync("/runs", new { agent, goal });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
    }

    private static async Task<IReadOnlyList<RunSummary>> ListAsync(HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync<RunList>($"/runs{query}"))!.Runs;

    [Test]
    public async Task Should_list_the_tenants_runs_newest_first_and_filter_them()
    {
        var waiting = await StartAsync(Http, "customer-support", "Refund order 1042, it arrived broken");
        await Eventually.Until(async () => (await Http.GetFromJsonAsync<PendingApprovals>("/approvals"))!.Approvals.SingleOrDefault(a => a.RunId == waiting), "the refund to wait for approval");
        var answered = await StartAsync(Http, "customer-support", "Where is order 1042?");
        await Eventually.RunAsync(Http, answered, run => run.Status != RunStatus.Running, "the question to be answered");
        var otherTenant = await ClientAsync("acme");
        await StartAsync(otherTenant, "customer-support", "Where is order 1042?");

        var all = await ListAsync(Http);
        Assert.That(all.Select(r => r.RunId), Is.EqualTo(new[] { answered, waiting }), "newest first, and only this tenant's");
        var completed = all[0];
        Assert.That((completed.Agent, completed.Goal, completed.Status, completed.Trigger), Is.EqualTo(("customer-support", "Where is order 1042?", RunStatus.Completed, (TriggerKind?)TriggerKind.Api)));
        Assert.That((completed.EndedAt, completed.Steps, completed.Usage), Is.Not.EqualTo((null as DateTimeOffset?, null as int?, null as TokenUsage)));
        Assert.That((all[1].Status, all[1].EndedAt, all[1].Usage), Is.EqualTo((RunStatus.Running, (DateTimeOffset?)null, (TokenUsage?)null)));

        Assert.That((await ListAsync(Http, "?status=running")).Select(r => r.RunId), Is.EqualTo(new[] { waiting }));
        Assert.That((await ListAsync(Http, "?status=Completed&trigger=api&agent=customer-support")).Select(r => r.RunId), Is.EqualTo(new[] { answered }));
        Assert.That(await ListAsync(Http, "?agent=coder"), Is.Empty);
        Assert.That(await ListAsync(Http, "?trigger=Schedule"), Is.Empty);
        Assert.That(await ListAsync(Http, $"?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}"), Is.Empty);
        Assert.That((await ListAsync(Http, $"?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}")).Count, Is.EqualTo(2));
        Assert.That((await ListAsync(Http, "?limit=1")).Select(r => r.RunId), Is.EqualTo(new[] { answered }));
    }

    [TestCase("status=Done", "'status' is 'Done'; it is one of Running, Completed, Failed, Escalated, Cancelled.")]
    [TestCase("status=1", "'status' is '1'")]
    [TestCase("trigger=cron", "'trigger' is 'cron'; it is one of Api, Webhook, Schedule, Event, SubAgent.")]
    [TestCase("since=yesterday", "'since' is 'yesterday', not a time")]
    [TestCase("limit=0", "'limit' is '0'; it is a whole number from 1 to 500.")]
    public async Task Should_refuse_a_filter_it_cannot_read_and_say_why(string query, string problem)
    {
        using var response = await Http.GetAsync($"/runs?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(problem));
    }

    [Test]
    public async Task Should_stream_each_event_of_the_tenants_runs_and_none_of_another_tenants()
    {
        using var defaultStream = await SseStream.OpenAsync(Http, "/runs/events");
        var acme = await ClientAsync("acme");
        using var acmeStream = await SseStream.OpenAsync(acme, "/runs/events");
        Assert.That((await defaultStream.NextAsync()).Type, Is.EqualTo(RunListApi.ReadyEvent));
        Assert.That((await acmeStream.NextAsync()).Type, Is.EqualTo(RunListApi.ReadyEvent));

        var runId = await StartAsync(Http, "customer-support", "Where is order 1042?");
        var seen = new List<string>();
        while (seen.LastOrDefault() != nameof(RunCompleted))
        {
            var next = await defaultStream.NextAsync();
            Assert.That(next.Data.GetProperty("runId").GetGuid(), Is.EqualTo(runId));
            seen.Add(next.Type);
        }

        Assert.That(seen, Does.Contain(nameof(GoalReceived)).And.Contain(nameof(StepPlanned)).And.Contain(nameof(GoalEvaluated)));

        // The default tenant's run ended before acme's started: acme's first event is of its own run.
        var acmeRun = await StartAsync(acme, "customer-support", "Where is order 1042?");
        var first = await acmeStream.NextAsync();
        Assert.That((first.Type, first.Data.GetProperty("runId").GetGuid()), Is.EqualTo((nameof(GoalReceived), acmeRun)));
    }

    /// An operator's view of another tenant: the admin role names it with tenant=, as on the totals;
    /// any other role is refused (403), and naming one's own tenant is no filter.
    [Test]
    public async Task Should_list_and_follow_another_tenants_runs_for_the_admin_role_only()
    {
        var ours = await StartAsync(Http, "customer-support", "Where is order 1042?");
        var acme = await ClientAsync("acme");
        var theirs = await StartAsync(acme, "customer-support", "Where is order 1042?");
        await Eventually.RunAsync(acme, theirs, run => run.Status != RunStatus.Running, "acme's run to end");

        Assert.That((await ListAsync(Http, "?tenant=acme")).Select(r => r.RunId), Is.EqualTo(new[] { theirs }), "the admin reads acme's runs, and only them");
        Assert.That((await ListAsync(Http, $"?tenant={ServiceDefaults.Extensions.DefaultTenant}")).Select(r => r.RunId), Is.EqualTo(new[] { ours }));
        using var adminStream = await SseStream.OpenAsync(Http, "/runs/events?tenant=acme");
        Assert.That((await adminStream.NextAsync()).Type, Is.EqualTo(RunListApi.ReadyEvent));
        var next = await StartAsync(acme, "customer-support", "Where is order 1042?");
        var first = await adminStream.NextAsync();
        Assert.That((first.Type, first.Data.GetProperty("runId").GetGuid()), Is.EqualTo((nameof(GoalReceived), next)));

        var reader = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read, GatewayRoles.Approve, GatewayRoles.Manage]);
        foreach (var path in new[] { "/runs?tenant=acme", "/runs/events?tenant=acme" })
        {
            using var refused = await reader.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), path);
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain($"Your credential acts for tenant '{ServiceDefaults.Extensions.DefaultTenant}'; only the admin role reads another tenant's runs"));
        }

        Assert.That((await ListAsync(reader, $"?tenant={ServiceDefaults.Extensions.DefaultTenant}")).Select(r => r.RunId), Is.EqualTo(new[] { ours }), "one's own tenant is no filter");
    }

    [Test]
    public async Task Should_follow_one_run_when_asked_to()
    {
        var other = await StartAsync(Http, "customer-support", "Refund order 1042, it arrived broken");
        using var stream = await SseStream.OpenAsync(Http, $"/runs/events?run={Guid.Empty}");
        Assert.That((await stream.NextAsync()).Type, Is.EqualTo(RunListApi.ReadyEvent));
        using var followed = await SseStream.OpenAsync(Http, $"/runs/events?run={other}");
        Assert.That((await followed.NextAsync()).Type, Is.EqualTo(RunListApi.ReadyEvent));

        using var cancel = await Http.PostAsJsonAsync($"/runs/{other}/cancel", new { reason = "test" });
        var ended = await followed.NextUntilAsync(nameof(RunCancelled));
        Assert.That(ended.Data.GetProperty("runId").GetGuid(), Is.EqualTo(other));
        Assert.That(await stream.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), Is.True, "a stream of another run got this run's events");
    }

    [Test]
    public async Task Should_ask_for_a_credential_with_the_read_role()
    {
        using var anonymous = await ClientAsync(null);
        using (var response = await anonymous.GetAsync("/runs/events"))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        var submitter = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Submit], "carol");
        using (var response = await submitter.GetAsync("/runs"))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("lacks the role 'read'"));
        }

        var me = await submitter.GetFromJsonAsync<CallerView>("/me");
        Assert.That(me, Is.EqualTo(new CallerView("carol", ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Submit])).Using<CallerView>((a, b) => a.Name == b.Name && a.TenantId == b.TenantId && a.Roles.SequenceEqual(b.Roles)));
    }

    [Test]
    public async Task Should_serve_the_console_to_anyone_and_nothing_else_without_a_credential()
    {
        using var anonymous = await ClientAsync(null);
        var page = await anonymous.GetStringAsync("/console/");
        Assert.That(page, Does.Contain("<title>Agentry console</title>"));
        var script = System.Text.RegularExpressions.Regex.Match(page, "/console/(assets/[^\"]+\\.js)").Groups[1].Value;
        using (var asset = await anonymous.GetAsync($"/console/{script}"))
        {
            Assert.That((asset.StatusCode, asset.Content.Headers.ContentType?.MediaType), Is.EqualTo((HttpStatusCode.OK, "text/javascript")));
            Assert.That(asset.Headers.CacheControl?.Extensions.Select(e => e.Name), Does.Contain("immutable"));
        }

        using (var missing = await anonymous.GetAsync("/console/assets/nothing.js"))
        {
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        using (var root = await anonymous.GetAsync("/"))
        {
            Assert.That(root.RequestMessage!.RequestUri!.AbsolutePath, Is.EqualTo("/console/"), "the root redirects to the console");
        }

        using var me = await anonymous.GetAsync("/me");
        Assert.That(me.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
