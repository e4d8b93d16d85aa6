using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Security;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Webhooks;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway.Webhooks;

/// POST /hooks/{agent}/{trigger} on `agentry serve` in this process: an agent whose YAML declares
/// github, zendesk and hmac webhooks, deliveries signed as each sender signs them, and every way a
/// delivery can be wrong. What was published is watched on the bus itself (a publish observer sees
/// each GoalReceived before the Gateway answers), so "started nothing" needs no waiting.
public sealed class When_webhooks_arrive : AgentryServerFixture
{
    private const string Agent = "reviewer";
    private const string GitHubSecret = "github-secret-for-tests";
    private const string ZendeskSecret = "zendesk-secret-for-tests";
    private const string HmacSecret = "hmac-secret-for-tests";
    private const string Opened = """{"action":"opened","pull_request":{"number":41,"title":"Add webhooks"}}""";
    private const int BodyLimit = 8192;
    private const int Burst = 20;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private GoalsPublished _published = new();
    private string _ticketPath = "id";
    private HttpClient _sender = null!;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        var agents = Directory.CreateDirectory(Folder.File("agents")).FullName;
        File.WriteAllText(Path.Combine(agents, $"{Agent}.yaml"), $$$"""
            description: Answers the sums that webhooks send it.
            instructions: Use the calculator.
            tools: [calculator]
            limits:
              max_steps: 4
              max_tokens: 20000
              deadline: 2m
            triggers:
              - name: pull-request
                webhook: github
                secret: github-test
                filter:
                  action: opened
                goal: "What is {{pull_request.number}} + 1?"
                input:
                  title: "{{pull_request.title}}"
                  number: "{{pull_request.number}}"
              - name: ticket
                webhook: zendesk
                secret: zendesk-test
                goal: "What is {{ticket.{{{_ticketPath}}}}} * 2?"
              - name: signed
                webhook: hmac
                secret: hmac-test
                signature_header: X-Signature
                timestamp_header: X-Timestamp
                delivery_header: X-Delivery
                tolerance: 5m
                goal: "What is {{order.total}} - 1?"
              - name: bare
                webhook: hmac
                secret: hmac-test
                signature_header: X-Signature
                goal: "What is {{order.total}} - 2?"
              - name: unconfigured
                webhook: hmac
                secret: nobody-set-this
                signature_header: X-Signature
                goal: "What is 1 + 1?"
              - name: acme-pull-request
                webhook: github
                secret: github-test
                tenant: acme
                goal: "What is {{pull_request.number}} + 3?"
            """);
        settings["Agents:Path"] = agents;
        settings["Triggers:Secrets:github-test"] = GitHubSecret;
        settings["Triggers:Secrets:zendesk-test"] = ZendeskSecret;
        settings["Triggers:Secrets:hmac-test"] = HmacSecret;
        settings["Gateway:MaxRequestBodyBytes"] = BodyLimit.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:PerWebhook:Burst"] = Burst.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:PerWebhook:PerSecond"] = "1";
    }

    [TearDown]
    public void ForgetTheFix() => _ticketPath = "id";

    // NUnit keeps one instance for the fixture's tests: each test watches its own server afresh.
    [SetUp]
    public async Task Observe()
    {
        _published = new GoalsPublished();
        App.Services.GetRequiredService<IBus>().ConnectPublishObserver(_published);
        // Senders hold no key: the signature is their credential.
        _sender = await ClientAsync(tenant: null);
    }

    [Test]
    public async Task Should_start_exactly_one_run_for_a_github_delivery_sent_three_times()
    {
        var delivery = Guid.NewGuid().ToString();

        var answers = new List<(HttpStatusCode Status, WebhookAnswer Answer)>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await GitHubAsync("pull-request", Opened, delivery);
            answers.Add((response.StatusCode, (await response.Content.ReadFromJsonAsync<WebhookAnswer>(Web))!));
        }

        var runId = TriggeredRuns.RunIdOf(Agent, "pull-request", delivery);
        Assert.That(answers.Select(a => (a.Status, a.Answer.Status, a.Answer.RunId, a.Answer.DeliveryId)), Is.EqualTo(new[]
        {
            (HttpStatusCode.Accepted, "started", (Guid?)runId, delivery),
            (HttpStatusCode.OK, "duplicate", (Guid?)runId, delivery),
            (HttpStatusCode.OK, "duplicate", (Guid?)runId, delivery),
        }));
        Assert.That(_published.Goals.Select(g => g.RunId), Is.EqualTo(new[] { runId }), "one GoalReceived for three deliveries");

        var run = await Eventually.Until(async () =>
        {
            // Memory records the run from the bus, a moment after the Gateway answered.
            using var response = await Http.GetAsync($"/runs/{runId}");
            return response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<RunView>(Web) is { Status: RunStatus.Completed } done ? done : null;
        }, "the webhook's run to complete");
        Assert.That((run.Agent, run.Goal, run.Answer, run.Trigger), Is.EqualTo((Agent, "What is 41 + 1?", "42", (TriggerKind?)TriggerKind.Webhook)));
        Assert.That(run.Origin, Is.EqualTo(new TriggerOrigin("pull-request", "github", delivery)));

        var recorded = (await InboxAsync("pull-request")).Single();
        Assert.That((recorded.State, recorded.RunId, recorded.Duplicates, recorded.DeliveryId), Is.EqualTo((WebhookDeliveryState.Started, (Guid?)runId, 2, delivery)));
        Assert.That(recorded.Headers.Keys, Does.Not.Contain("X-Hub-Signature-256"), "the signature is never kept");
        Assert.That(recorded.Headers["X-GitHub-Event"], Is.EqualTo("pull_request"));
    }

    [TestCase("none", TestName = "Should_refuse_an_unsigned_delivery_with_401")]
    [TestCase("garbage", TestName = "Should_refuse_a_signature_that_is_not_hex_with_401")]
    [TestCase("tampered", TestName = "Should_refuse_a_signature_of_another_body_with_401")]
    [TestCase("other-secret", TestName = "Should_refuse_a_signature_made_with_another_secret_with_401")]
    public async Task Should_refuse_a_badly_signed_github_delivery(string how)
    {
        var delivery = Guid.NewGuid().ToString();
        var signature = how switch
        {
            "none" => null,
            "garbage" => "sha256=not-hex-at-all",
            "tampered" => GitHubSignature(GitHubSecret, Opened.Replace("41", "42", StringComparison.Ordinal)),
            _ => GitHubSignature("a-secret-of-someone-else", Opened),
        };

        using var response = await SendAsync("pull-request", Opened, ("X-GitHub-Delivery", delivery), ("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", signature));

        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), body);
        Assert.That(body, Does.Contain(how == "none" ? "not signed: it has no X-Hub-Signature-256 header" : how == "garbage" ? "is not a GitHub signature" : "does not match the delivery"));
        Assert.That(body, Does.Not.Contain(GitHubSecret).And.Not.Contain(signature?[7..] ?? "sha256="), "the answer echoes neither the secret nor the signature");
        await AssertStartedNothingAsync("pull-request", delivery, WebhookDeliveryState.Unverified);

        // The refusal claimed nothing: the real delivery of that id still starts its run.
        using var real = await GitHubAsync("pull-request", Opened, delivery);
        Assert.That(real.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
    }

    [TestCase("ticket", -10, "The delivery is stale: its", TestName = "Should_refuse_a_stale_zendesk_delivery_with_401")]
    [TestCase("ticket", 10, "s in the future, more than this webhook's tolerance of 300 s", TestName = "Should_refuse_a_zendesk_delivery_from_the_future_with_401")]
    [TestCase("signed", -10, "The delivery is stale: its", TestName = "Should_refuse_a_stale_hmac_delivery_with_401")]
    [TestCase("signed", 10, "s in the future, more than this webhook's tolerance of 300 s", TestName = "Should_refuse_an_hmac_delivery_from_the_future_with_401")]
    public async Task Should_refuse_a_timestamp_outside_the_tolerance(string trigger, int minutes, string reason)
    {
        var delivery = Guid.NewGuid().ToString();
        var at = DateTimeOffset.UtcNow.AddMinutes(minutes);
        var body = trigger == "ticket" ? """{"ticket":{"id":21}}""" : """{"order":{"total":10}}""";

        using var response = trigger == "ticket" ? await ZendeskAsync(body, delivery, at) : await HmacAsync("signed", body, delivery, at);

        var answer = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), answer);
        Assert.That(answer, Does.Contain(reason));
        await AssertStartedNothingAsync(trigger, delivery, WebhookDeliveryState.Unverified);
    }

    [Test]
    public async Task Should_refuse_a_timestamped_delivery_without_its_timestamp()
    {
        const string body = """{"order":{"total":10}}""";
        using var response = await SendAsync("signed", body, ("X-Delivery", "d-1"), ("X-Signature", HmacSignature("1700000000." + body)));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("no X-Timestamp header"));
        await AssertStartedNothingAsync("signed", "d-1", WebhookDeliveryState.Unverified);
    }

    [Test]
    public async Task Should_start_a_zendesk_and_an_hmac_delivery_within_the_tolerance()
    {
        using var zendesk = await ZendeskAsync("""{"ticket":{"id":21}}""", "zd-1", DateTimeOffset.UtcNow.AddMinutes(-2));
        using var hmac = await HmacAsync("signed", """{"order":{"total":10}}""", "h-1", DateTimeOffset.UtcNow.AddMinutes(2));

        Assert.That((zendesk.StatusCode, hmac.StatusCode), Is.EqualTo((HttpStatusCode.Accepted, HttpStatusCode.Accepted)), await zendesk.Content.ReadAsStringAsync() + await hmac.Content.ReadAsStringAsync());
        Assert.That(_published.Goals.Select(g => (g.Goal, g.Origin)), Is.EquivalentTo(new[]
        {
            ("What is 21 * 2?", new TriggerOrigin("ticket", "zendesk", "zd-1")),
            ("What is 10 - 1?", new TriggerOrigin("signed", "hmac", "h-1")),
        }));
    }

    [Test]
    public async Task Should_name_a_delivery_without_a_delivery_header_by_the_hash_of_what_was_signed()
    {
        const string body = """{"order":{"total":7}}""";

        using var first = await SendAsync("bare", body, ("X-Signature", HmacSignature(body)));
        using var again = await SendAsync("bare", body, ("X-Signature", "sha256=" + HmacSignature(body)));

        var started = (await first.Content.ReadFromJsonAsync<WebhookAnswer>(Web))!;
        var duplicate = (await again.Content.ReadFromJsonAsync<WebhookAnswer>(Web))!;
        var hash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        Assert.That((first.StatusCode, started.Status, started.DeliveryId), Is.EqualTo((HttpStatusCode.Accepted, "started", hash)));
        Assert.That((again.StatusCode, duplicate.Status, duplicate.RunId), Is.EqualTo((HttpStatusCode.OK, "duplicate", started.RunId)));
        Assert.That(_published.Goals, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_refuse_a_body_that_is_not_json_with_400()
    {
        using var response = await GitHubAsync("pull-request", "{\"action\": \"opened\", ", "not-json");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("The body is not JSON"));
        await AssertStartedNothingAsync("pull-request", "not-json", WebhookDeliveryState.Refused);
    }

    [Test]
    public async Task Should_refuse_a_payload_the_mapping_cannot_map_naming_the_path()
    {
        using var response = await GitHubAsync("pull-request", """{"action":"opened","pull_request":{"title":"No number"}}""", "unmappable");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("the payload has no value at 'pull_request.number'"));
        await AssertStartedNothingAsync("pull-request", "unmappable", WebhookDeliveryState.Refused);
    }

    [Test]
    public async Task Should_ignore_a_delivery_the_filter_leaves_out_and_record_why()
    {
        using var response = await GitHubAsync("pull-request", Opened.Replace("opened", "closed", StringComparison.Ordinal), "closed-1");

        var answer = (await response.Content.ReadFromJsonAsync<WebhookAnswer>(Web))!;
        Assert.That((response.StatusCode, answer.Status, answer.RunId), Is.EqualTo((HttpStatusCode.Accepted, "ignored", (Guid?)null)));
        Assert.That(answer.Reason, Is.EqualTo("filtered out: action is 'closed', not 'opened'"));
        await AssertStartedNothingAsync("pull-request", "closed-1", WebhookDeliveryState.Filtered);
    }

    [TestCase("nobody", "pull-request", TestName = "Should_answer_404_for_an_unknown_agent")]
    [TestCase(Agent, "no-such-trigger", TestName = "Should_answer_404_for_an_unknown_trigger")]
    [TestCase("assistant", "pull-request", TestName = "Should_answer_404_for_an_agent_without_that_trigger")]
    public async Task Should_answer_404_without_saying_what_exists(string agent, string trigger)
    {
        using var response = await _sender.PostAsync($"/hooks/{agent}/{trigger}", new StringContent(Opened, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(body, Does.Contain("No such webhook."));
        Assert.That(body, Does.Not.Contain("pull-request").And.Not.Contain(Agent));
    }

    [Test]
    public async Task Should_refuse_a_body_over_the_limit_with_413()
    {
        var body = JsonSerializer.Serialize(new { action = "opened", pull_request = new { number = 1, title = new string('x', BodyLimit) } });

        using var response = await GitHubAsync("pull-request", body, "too-big");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain($"over {BodyLimit:N0} bytes"));
        await AssertStartedNothingAsync("pull-request", "too-big", WebhookDeliveryState.Unverified);
    }

    [Test]
    public async Task Should_refuse_deliveries_to_a_webhook_whose_secret_is_not_configured_with_503()
    {
        const string body = """{"order":{"total":1}}""";
        using var response = await SendAsync("unconfigured", body, ("X-Signature", HmacSignature(body)));

        var answer = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(answer, Does.Contain("its signing secret is not configured on the Gateway"));
        Assert.That(answer, Does.Not.Contain("nobody-set-this"), "the sender is not told the setting's name");
        var recorded = (await InboxAsync("unconfigured")).Single();
        Assert.That((recorded.State, recorded.Reason), Is.EqualTo((WebhookDeliveryState.Unverified, "The webhook's signing secret is not configured: set Triggers:Secrets:nobody-set-this (environment Triggers__Secrets__nobody-set-this).")));
        Assert.That(_published.Goals, Is.Empty);
    }

    [Test]
    public async Task Should_limit_the_deliveries_of_one_webhook()
    {
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < Burst + 5; i++)
        {
            using var response = await SendAsync("bare", "{}");
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Too many deliveries to this webhook"));
                Assert.That(response.Headers.RetryAfter, Is.Not.Null);
            }
        }

        Assert.That(answers.Take(Burst), Is.All.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(answers.Skip(Burst), Has.Some.EqualTo(HttpStatusCode.TooManyRequests));

        // Another webhook has a bucket of its own.
        using var other = await GitHubAsync("pull-request", Opened, "after-the-flood");
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
    }

    [Test]
    public async Task Should_replay_a_refused_delivery_once_the_mapping_is_fixed_and_audit_it()
    {
        const string body = """{"ticket":{"number":8}}""";
        using (var refused = await ZendeskAsync(body, "zd-fix", DateTimeOffset.UtcNow))
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("no value at 'ticket.id'"));
        }

        var delivery = (await InboxAsync("ticket")).Single();
        using (var stillBroken = await Http.PostAsync($"/hooks/deliveries/{delivery.Id}/replay", null))
        {
            Assert.That(stillBroken.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await stillBroken.Content.ReadAsStringAsync(), Does.Contain("The replay started nothing").And.Contain("ticket.id"));
        }

        // The operator fixes the agent's mapping and restarts the Gateway; the inbox kept the delivery.
        _ticketPath = "number";
        await RestartServerAsync();
        await Observe();

        using var replay = await Http.PostAsync($"/hooks/deliveries/{delivery.Id}/replay", null);

        var answer = (await replay.Content.ReadFromJsonAsync<WebhookAnswer>(Web))!;
        var runId = TriggeredRuns.RunIdOf(Agent, "ticket", "zd-fix");
        Assert.That((replay.StatusCode, answer.Status, answer.RunId), Is.EqualTo((HttpStatusCode.Accepted, "started", (Guid?)runId)));
        Assert.That(_published.Goals.Select(g => (g.RunId, g.Goal, g.Origin)), Is.EqualTo(new[] { (runId, "What is 8 * 2?", (TriggerOrigin?)new TriggerOrigin("ticket", "zendesk", "zd-fix")) }));
        Assert.That((await InboxAsync("ticket")).Single().State, Is.EqualTo(WebhookDeliveryState.Started));

        var audited = await Eventually.Until(async () =>
            (await Http.GetFromJsonAsync<AuditTrail>("/audit", Web))!.Entries.FirstOrDefault(e => e.Action == "webhook.replayed" && e.RunId == runId), "the replay in the audit trail");
        Assert.That(audited.Target, Is.EqualTo("reviewer/ticket delivery zd-fix"));
        Assert.That(audited.Detail, Does.StartWith("was refused: cannot map the payload to a run").And.EndWith($"now started run {runId}"));

        using var again = await Http.PostAsync($"/hooks/deliveries/{delivery.Id}/replay", null);
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await again.Content.ReadAsStringAsync(), Does.Contain($"already started run {runId}"));
        Assert.That(_published.Goals, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_replay_a_filtered_delivery_when_an_operator_asks_for_it()
    {
        using (await GitHubAsync("pull-request", Opened.Replace("opened", "edited", StringComparison.Ordinal), "edited-1"))
        {
        }

        var delivery = (await InboxAsync("pull-request")).Single();
        Assert.That(delivery.State, Is.EqualTo(WebhookDeliveryState.Filtered));

        using var replay = await Http.PostAsync($"/hooks/deliveries/{delivery.Id}/replay", null);

        Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(_published.Goals.Select(g => g.Goal), Is.EqualTo(new[] { "What is 41 + 1?" }));
    }

    [Test]
    public async Task Should_refuse_to_replay_a_delivery_that_was_never_verified()
    {
        using (await SendAsync("pull-request", Opened, ("X-GitHub-Delivery", "forged"), ("X-Hub-Signature-256", GitHubSignature("guess", Opened))))
        {
        }

        var delivery = (await InboxAsync("pull-request")).Single();
        using var replay = await Http.PostAsync($"/hooks/deliveries/{delivery.Id}/replay", null);

        Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(await replay.Content.ReadAsStringAsync(), Does.Contain("refused before it was verified").And.Contain("deliver it again from the sender"));
        Assert.That(delivery.Body, Is.Null, "an unverified body is not kept");
        Assert.That(_published.Goals, Is.Empty);
    }

    [Test]
    public async Task Should_list_each_delivery_with_its_state_for_operators_of_its_tenant()
    {
        using (await GitHubAsync("pull-request", Opened, "l-started")) { }
        using (await GitHubAsync("pull-request", Opened, "l-started")) { }
        using (await GitHubAsync("pull-request", Opened.Replace("opened", "closed", StringComparison.Ordinal), "l-filtered")) { }
        using (await GitHubAsync("pull-request", """{"action":"opened"}""", "l-refused")) { }
        using (await SendAsync("pull-request", Opened, ("X-GitHub-Delivery", "l-unsigned"))) { }
        using (await GitHubAsync("acme-pull-request", Opened, "l-acme")) { }

        var listed = (await Http.GetFromJsonAsync<List<WebhookDeliveryView>>($"/hooks/deliveries?agent={Agent}&trigger=pull-request", Web))!;

        Assert.That(listed.Select(d => (d.DeliveryId, d.State, d.Duplicates)), Is.EqualTo(new[]
        {
            ("l-unsigned", WebhookDeliveryState.Unverified, 0),
            ("l-refused", WebhookDeliveryState.Refused, 0),
            ("l-filtered", WebhookDeliveryState.Filtered, 0),
            ("l-started", WebhookDeliveryState.Started, 1),
        }));
        Assert.That(listed[0].Reason, Does.Contain("not signed"));
        Assert.That(listed[1].Reason, Does.Contain("pull_request.number"));
        Assert.That(listed[3].RunId, Is.EqualTo(TriggeredRuns.RunIdOf(Agent, "pull-request", "l-started")));

        // Another tenant's webhook is its operators' alone.
        Assert.That((await Http.GetFromJsonAsync<List<WebhookDeliveryView>>("/hooks/deliveries", Web))!.Select(d => d.DeliveryId), Does.Not.Contain("l-acme"));
        using var acme = await ClientAsync("acme", [GatewayRoles.Manage]);
        Assert.That((await acme.GetFromJsonAsync<List<WebhookDeliveryView>>("/hooks/deliveries", Web))!.Select(d => (d.DeliveryId, d.State)),
            Is.EqualTo(new[] { ("l-acme", WebhookDeliveryState.Started) }));
        var acmeRun = _published.Goals.Single(g => g.Origin?.DeliveryId == "l-acme");
        Assert.That(acmeRun.TenantId, Is.EqualTo("acme"));
        using var replayOfAnother = await acme.PostAsync($"/hooks/deliveries/{listed[1].Id}/replay", null);
        Assert.That(replayOfAnother.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        using var reader = await ClientAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Read, GatewayRoles.Submit]);
        using var forbidden = await reader.GetAsync("/hooks/deliveries");
        Assert.That(forbidden.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await forbidden.Content.ReadAsStringAsync(), Does.Contain("'manage' or 'admin'"));
        using var anonymous = await _sender.GetAsync("/hooks/deliveries");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Should_list_and_replay_deliveries_from_the_cli()
    {
        using (await GitHubAsync("pull-request", Opened.Replace("opened", "closed", StringComparison.Ordinal), "cli-filtered")) { }
        var gateway = new Agentry.Cli.GatewayTarget(LocalHttpServer.BaseAddressOf(App).ToString(), await CreateKeyAsync(ServiceDefaults.Extensions.DefaultTenant, [GatewayRoles.Manage]));
        var filtered = (await InboxAsync("pull-request")).Single();

        using var listed = new StringWriter();
        using var errors = new StringWriter();
        var listExit = await Agentry.Cli.HookCommands.ListAsync(gateway, Agent, "pull-request", 50, listed, errors, CancellationToken.None);
        using var replayed = new StringWriter();
        var replayExit = await Agentry.Cli.HookCommands.ReplayAsync(gateway, filtered.Id.ToString(), replayed, errors, CancellationToken.None);
        using var refused = new StringWriter();
        var againExit = await Agentry.Cli.HookCommands.ReplayAsync(gateway, filtered.Id.ToString(), replayed, refused, CancellationToken.None);

        var runId = TriggeredRuns.RunIdOf(Agent, "pull-request", "cli-filtered");
        Assert.That((listExit, replayExit, againExit), Is.EqualTo((0, 0, 2)), errors.ToString());
        Assert.That(listed.ToString(), Does.Contain($"{filtered.Id}").And.Contain("reviewer/pull-request (github)  delivery cli-filtered")
            .And.Contain("Filtered: filtered out: action is 'closed', not 'opened'"));
        Assert.That(replayed.ToString(), Does.Contain($"Replayed delivery cli-filtered: run {runId} started."));
        Assert.That(refused.ToString(), Does.Contain($"already started run {runId}"));
    }

    private async Task AssertStartedNothingAsync(string trigger, string delivery, WebhookDeliveryState state)
    {
        Assert.That(_published.Goals, Is.Empty, "nothing was published");
        var recorded = (await InboxAsync(trigger)).Where(d => d.DeliveryId == delivery).ToList();
        Assert.That(recorded.Select(d => (d.State, d.RunId)), Is.EqualTo(new[] { (state, (Guid?)null) }));
        Assert.That(recorded[0].Reason, Is.Not.Empty);
        using var run = await Http.GetAsync($"/runs/{TriggeredRuns.RunIdOf(Agent, trigger, delivery)}");
        Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private Task<IReadOnlyList<WebhookDelivery>> InboxAsync(string trigger, string tenant = ServiceDefaults.Extensions.DefaultTenant) =>
        App.Services.GetRequiredService<IWebhookInbox>().ListAsync(tenant, Agent, trigger, 100, CancellationToken.None);

    private Task<HttpResponseMessage> GitHubAsync(string trigger, string body, string delivery) =>
        SendAsync(trigger, body, ("X-GitHub-Delivery", delivery), ("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", GitHubSignature(GitHubSecret, body)));

    private Task<HttpResponseMessage> ZendeskAsync(string body, string delivery, DateTimeOffset at)
    {
        var timestamp = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ZendeskSecret), Encoding.UTF8.GetBytes(timestamp + body)));
        return SendAsync("ticket", body, ("X-Zendesk-Webhook-Invocation-Id", delivery), ("X-Zendesk-Webhook-Signature-Timestamp", timestamp), ("X-Zendesk-Webhook-Signature", signature));
    }

    private Task<HttpResponseMessage> HmacAsync(string trigger, string body, string delivery, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return SendAsync(trigger, body, ("X-Delivery", delivery), ("X-Timestamp", timestamp), ("X-Signature", HmacSignature(timestamp + "." + body)));
    }

    private async Task<HttpResponseMessage> SendAsync(string trigger, string body, params (string Name, string? Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/hooks/{Agent}/{trigger}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers.Where(h => h.Value is not null))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await _sender.SendAsync(request);
    }

    private static string GitHubSignature(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    private static string HmacSignature(string signed) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(HmacSecret), Encoding.UTF8.GetBytes(signed)));

    /// Every GoalReceived the server's bus publishes, seen before Publish returns.
    private sealed class GoalsPublished : IPublishObserver
    {
        public ConcurrentQueue<GoalReceived> Goals { get; } = new();

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class
        {
            if (context.Message is GoalReceived goal)
            {
                Goals.Enqueue(goal);
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }
}
