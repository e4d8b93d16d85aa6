using System.Text.Json;
using Agentry.Agents;
using Agentry.Agents.Triggers;
using Agentry.Contracts;

namespace Agentry.Tests.Agents;

/// The `triggers:` section of agents/NAME.yaml (schedules, webhooks, event subscriptions), and the
/// mapping every trigger shares from what fired it to a goal and input.
public sealed class When_an_agent_declares_triggers
{
    private const string Triggers = """
        instructions: Work.
        triggers:
          - name: weekday-report
            schedule: "0 6 * * 1-5"
            time_zone: Europe/Berlin
            misfire: run-once
            goal: "Write the market report for {{date}}."
          - name: new-pull-request
            webhook: github
            secret: github-review
            filter:
              action: [opened, reopened]
            goal: "Review PR #{{pull_request.number}}: {{pull_request.title}}"
            input:
              repository: "{{repository.full_name}}"
              number: "{{pull_request.number}}"
              labels: "{{pull_request.labels}}"
              strict: true
          - name: order-delayed
            tenant: acme
            event:
              exchange: shop.orders
              routing_key: order.delayed
            goal: "Order {{order.id}} is late."
        """;

    private static AgentDefinition Parse(string yaml) =>
        AgentDefinitionLoader.Parse("triggered.yaml", yaml, ShippedTools.Catalog.Names.ToHashSet());

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Test]
    public void Should_read_a_schedule_a_webhook_and_an_event_subscription()
    {
        var triggers = Parse(Triggers).Triggers;

        Assert.That(triggers.Select(t => (t.Name, t.Kind, t.Line)), Is.EqualTo(new[]
        {
            ("weekday-report", TriggerKind.Schedule, 3L),
            ("new-pull-request", TriggerKind.Webhook, 8L),
            ("order-delayed", TriggerKind.Event, 19L),
        }));
        var schedule = (ScheduleTrigger)triggers[0];
        Assert.That((schedule.CronText, schedule.TimeZone.Id, schedule.Misfire, schedule.Tenant), Is.EqualTo(("0 6 * * 1-5", "Europe/Berlin", MisfirePolicy.RunOnce, (string?)null)));
        var webhook = (WebhookTrigger)triggers[1];
        Assert.That((webhook.Scheme, webhook.Secret, webhook.Tolerance), Is.EqualTo((WebhookScheme.GitHub, "github-review", TimeSpan.FromMinutes(5))));
        var subscription = (EventTrigger)triggers[2];
        Assert.That((subscription.Exchange, subscription.RoutingKey, subscription.ExchangeType, subscription.Tenant), Is.EqualTo(("shop.orders", "order.delayed", "topic", "acme")));
    }

    [Test]
    public void Should_give_a_schedule_its_next_due_time_in_its_zone_and_skip_by_default()
    {
        var schedule = (ScheduleTrigger)Parse(Triggers).Triggers[0];
        var friday = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

        // Monday 06:00 in Berlin (UTC+1 in winter).
        Assert.That(schedule.NextAfter(friday), Is.EqualTo(new DateTimeOffset(2026, 12, 7, 5, 0, 0, TimeSpan.Zero)));
        var plain = (ScheduleTrigger)Parse("instructions: Work.\ntriggers:\n  - name: every-two-seconds\n    schedule: \"*/2 * * * * *\"\n    goal: Tick.\n").Triggers[0];
        Assert.That((plain.TimeZone, plain.Misfire), Is.EqualTo((TimeZoneInfo.Utc, MisfirePolicy.Skip)));
        Assert.That(plain.NextAfter(friday), Is.EqualTo(friday.AddSeconds(2)));
    }

    [Test]
    public void Should_map_a_payload_to_the_goal_and_an_input_that_keeps_json_types()
    {
        var webhook = Parse(Triggers).Triggers[1];
        var payload = Json("""{ "action": "opened", "pull_request": { "number": 42, "title": "Fix the parser", "labels": ["bug"] }, "repository": { "full_name": "acme/shop" } }""");

        Assert.That(webhook.Mapping.Refusal(payload), Is.Null);
        var (goal, input) = webhook.Mapping.Apply(payload);

        Assert.That(goal, Is.EqualTo("Review PR #42: Fix the parser"));
        Assert.That(input!.Value.GetRawText(), Is.EqualTo("""{"repository":"acme/shop","number":42,"labels":["bug"],"strict":true}"""));
    }

    [TestCase("""{ "action": "closed", "pull_request": { "number": 1, "title": "t" } }""", "filtered out: action is 'closed', not 'opened' or 'reopened'")]
    [TestCase("""{ "pull_request": { "number": 1, "title": "t" } }""", "filtered out: action is missing, not 'opened' or 'reopened'")]
    public void Should_leave_out_a_payload_the_filter_does_not_match(string json, string reason)
    {
        Assert.That(Parse(Triggers).Triggers[1].Mapping.Refusal(Json(json)), Is.EqualTo(reason));
    }

    [Test]
    public void Should_refuse_a_payload_without_a_path_the_templates_name()
    {
        var webhook = Parse(Triggers).Triggers[1];
        var payload = Json("""{ "action": "opened", "pull_request": { "number": 42 }, "repository": { "full_name": "acme/shop" } }""");

        var error = Assert.Throws<TriggerMappingException>(() => webhook.Mapping.Apply(payload))!;
        Assert.That(error.Message, Is.EqualTo("the payload has no value at 'pull_request.title'."));
    }

    [Test]
    public void Should_read_array_indexes_in_paths()
    {
        var mapping = new RunMapping("Restock {{items[1].sku}}", null, []);

        Assert.That(mapping.Apply(Json("""{ "items": [ { "sku": "A" }, { "sku": "B" } ] }""")).Goal, Is.EqualTo("Restock B"));
        Assert.Throws<TriggerMappingException>(() => mapping.Apply(Json("""{ "items": [ { "sku": "A" } ] }""")));
    }

    [TestCase("    schedule: \"0 25 * * *\"\n    goal: g\n", 4, 15, "'0 25 * * *' is not a cron expression")]
    [TestCase("    schedule: \"0 6 * * *\"\n    time_zone: Mars/Olympus\n    goal: g\n", 5, 16, "'Mars/Olympus' is not a time zone")]
    [TestCase("    schedule: \"0 6 * * *\"\n    misfire: always\n    goal: g\n", 5, 14, "triggers.t.misfire must be skip")]
    [TestCase("    schedule: \"0 6 * * *\"\n", 3, 5, "trigger 't' needs goal")]
    [TestCase("    schedule: \"0 6 * * *\"\n    filter: { a: b }\n    goal: g\n", 5, 13, "a schedule has nothing to filter")]
    [TestCase("    webhook: gitlab\n    secret: s\n    goal: g\n", 4, 14, "triggers.t.webhook must be github, zendesk or hmac")]
    [TestCase("    webhook: github\n    goal: g\n", 3, 5, "webhook trigger 't' needs secret")]
    [TestCase("    webhook: hmac\n    secret: s\n    goal: g\n", 3, 5, "webhook trigger 't' uses hmac: name the header")]
    [TestCase("    webhook: github\n    secret: s\n    goal: \"PR {{pull request}}\"\n", 6, 11, "'{{pull request}}' in triggers.t.goal is not a path")]
    [TestCase("    event: { routing_key: a }\n    goal: g\n", 4, 12, "triggers.t.event needs exchange")]
    [TestCase("    event: { exchange: x, type: headers }\n    goal: g\n", 4, 33, "triggers.t.event.type must be topic, direct or fanout")]
    [TestCase("    schedule: \"0 6 * * *\"\n    webhook: github\n    goal: g\n", 3, 5, "a trigger is one thing: it has both schedule and webhook")]
    [TestCase("    goal: g\n", 3, 5, "a trigger needs one of schedule")]
    [TestCase("    schedule: \"0 6 * * *\"\n    goal: g\n    retries: 3\n", 6, 5, "unknown key 'retries' in trigger 't'")]
    public void Should_name_the_line_of_a_bad_trigger(string body, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"instructions: Work.\ntriggers:\n  - name: t\n{body}"))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.Message);
        Assert.That(error.Problem, Does.StartWith(problem), error.Message);
    }

    [Test]
    public void Should_refuse_two_triggers_of_one_name_and_a_trigger_without_a_name()
    {
        var twice = Assert.Throws<AgentDefinitionException>(() => Parse("instructions: Work.\ntriggers:\n  - { name: t, schedule: \"0 6 * * *\", goal: g }\n  - { name: t, schedule: \"0 7 * * *\", goal: g }\n"))!;
        var unnamed = Assert.Throws<AgentDefinitionException>(() => Parse("instructions: Work.\ntriggers:\n  - { schedule: \"0 6 * * *\", goal: g }\n"))!;

        Assert.That((twice.Line, twice.Problem), Is.EqualTo((4L, "two triggers are named 't'; a trigger's name must be unique within its agent.")));
        Assert.That(unnamed.Problem, Does.StartWith("a trigger needs a name"));
    }
}
