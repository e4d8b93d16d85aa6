using System.Globalization;
using System.Text.Json.Nodes;
using Agentry.Agents.Triggers;
using Cronos;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Agentry.Agents;

/// `triggers:` of an agent definition: a list of schedules, webhooks and event subscriptions.
public static partial class AgentDefinitionLoader
{
    private static readonly string[] TriggerKinds = ["schedule", "webhook", "event"];

    private static List<AgentTrigger> ReadTriggers(Reader reader, YamlNode? node)
    {
        var triggers = new List<AgentTrigger>();
        if (node is null)
        {
            return triggers;
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw reader.Error(node, "triggers must be a list, like [ { name: weekday-report, schedule: \"0 6 * * 1-5\", goal: ... } ].");
        }

        foreach (var item in sequence.Children)
        {
            var map = reader.Mapping(item, "a trigger");
            var kinds = TriggerKinds.Where(k => map.Find(k) is not null).ToList();
            if (kinds.Count != 1)
            {
                throw reader.Error(item, kinds.Count == 0
                    ? "a trigger needs one of schedule (a cron expression), webhook (github, zendesk or hmac) or event (an exchange to subscribe to)."
                    : $"a trigger is one thing: it has both {kinds[0]} and {kinds[1]}; declare two triggers.");
            }

            var name = map.Find("name") is { } n
                ? reader.Scalar(n, "trigger name")
                : throw reader.Error(item, $"a trigger needs a name (lower-case letters, digits and '-'), like name: {(kinds[0] == "schedule" ? "weekday-report" : kinds[0] == "webhook" ? "new-pull-request" : "order-delayed")}.");
            if (!AgentNamePattern().IsMatch(name))
            {
                throw reader.Error(n, $"'{name}' is not a valid trigger name: use lower-case letters, digits and '-', starting with a letter.");
            }

            if (triggers.Any(t => t.Name == name))
            {
                throw reader.Error(n, $"two triggers are named '{name}'; a trigger's name must be unique within its agent.");
            }

            AgentTrigger trigger = kinds[0] switch
            {
                "schedule" => ReadSchedule(reader, map, name, item.Start.Line),
                "webhook" => ReadWebhook(reader, map, name, item.Start.Line),
                _ => ReadEventSubscription(reader, map, name, item.Start.Line),
            };
            if (map.Find("tenant") is { } tenantNode)
            {
                var tenant = reader.Scalar(tenantNode, $"triggers.{name}.tenant").Trim();
                trigger = tenant.Length is > 0 and <= 128 && !tenant.Any(char.IsControl)
                    ? trigger with { Tenant = tenant }
                    : throw reader.Error(tenantNode, $"triggers.{name}.tenant must be a tenant id of 1 to 128 characters.");
            }

            triggers.Add(trigger);
        }

        return triggers;
    }

    private static ScheduleTrigger ReadSchedule(Reader reader, MappingView map, string name, long line)
    {
        reader.RejectUnknownKeys(map, ["name", "schedule", "time_zone", "misfire", "tenant", "filter", "goal", "input"], $"trigger '{name}'");
        var cronNode = map.Find("schedule")!;
        var cronText = reader.Scalar(cronNode, $"triggers.{name}.schedule").Trim();
        CronExpression cron;
        try
        {
            // Five fields, or six when the first is seconds (a schedule due every few seconds).
            cron = CronExpression.Parse(cronText, cronText.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw reader.Error(cronNode, $"'{cronText}' is not a cron expression ({e.Message.TrimEnd('.')}); write five fields, minute hour day-of-month month day-of-week, like \"0 6 * * 1-5\".");
        }

        var zone = TimeZoneInfo.Utc;
        if (map.Find("time_zone") is { } zoneNode)
        {
            var id = reader.Scalar(zoneNode, $"triggers.{name}.time_zone").Trim();
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found))
            {
                throw reader.Error(zoneNode, $"'{id}' is not a time zone this machine knows; use an IANA name such as Europe/Berlin or America/New_York.");
            }

            zone = found;
        }

        var misfire = MisfirePolicy.Skip;
        if (map.Find("misfire") is { } misfireNode)
        {
            misfire = reader.Scalar(misfireNode, $"triggers.{name}.misfire") switch
            {
                "skip" => MisfirePolicy.Skip,
                "run-once" => MisfirePolicy.RunOnce,
                var other => throw reader.Error(misfireNode, $"triggers.{name}.misfire must be skip (missed due times are recorded, not run) or run-once (the latest missed one runs once), not '{other}'."),
            };
        }

        return new ScheduleTrigger(name, ReadRunMapping(reader, map, name, filterAllowed: false), line, cronText, cron, zone, misfire);
    }

    private static WebhookTrigger ReadWebhook(Reader reader, MappingView map, string name, long line)
    {
        reader.RejectUnknownKeys(map, ["name", "webhook", "secret", "signature_header", "timestamp_header", "delivery_header", "tolerance", "tenant", "filter", "goal", "input"], $"trigger '{name}'");
        var schemeNode = map.Find("webhook")!;
        var scheme = reader.Scalar(schemeNode, $"triggers.{name}.webhook") switch
        {
            "github" => WebhookScheme.GitHub,
            "zendesk" => WebhookScheme.Zendesk,
            "hmac" => WebhookScheme.Hmac,
            var other => throw reader.Error(schemeNode, $"triggers.{name}.webhook must be github, zendesk or hmac (the signature scheme the sender uses), not '{other}'."),
        };
        var secret = map.Find("secret") is { } secretNode
            ? reader.Scalar(secretNode, $"triggers.{name}.secret").Trim()
            : throw reader.Error(map, $"webhook trigger '{name}' needs secret: the name of its signing secret, set as Triggers:Secrets:NAME in the Gateway's configuration (environment Triggers__Secrets__NAME), never the secret itself.");
        if (!SecretNamePattern().IsMatch(secret))
        {
            throw reader.Error(map.Find("secret")!, $"'{secret}' is not a secret name: use letters, digits, '-' and '_' (the secret itself goes in configuration as Triggers:Secrets:NAME).");
        }

        string? Header(string key)
        {
            if (map.Find(key) is not { } headerNode)
            {
                return null;
            }

            var header = reader.Scalar(headerNode, $"triggers.{name}.{key}").Trim();
            return HeaderNamePattern().IsMatch(header) ? header : throw reader.Error(headerNode, $"'{header}' is not an HTTP header name.");
        }

        var signatureHeader = Header("signature_header");
        if (scheme == WebhookScheme.Hmac && signatureHeader is null)
        {
            throw reader.Error(map, $"webhook trigger '{name}' uses hmac: name the header that carries the signature, like signature_header: X-Signature.");
        }

        if (scheme == WebhookScheme.GitHub && map.Find("timestamp_header") is { } timestampNode)
        {
            throw reader.Error(timestampNode, $"GitHub signs no timestamp: remove triggers.{name}.timestamp_header (each GitHub delivery's X-GitHub-Delivery id is what stops it from being replayed).");
        }

        var tolerance = map.Find("tolerance") is { } t ? reader.Duration(t, $"triggers.{name}.tolerance") : WebhookTrigger.DefaultTolerance;
        return new WebhookTrigger(name, ReadRunMapping(reader, map, name, filterAllowed: true), line, scheme, secret, signatureHeader, Header("timestamp_header"), Header("delivery_header"), tolerance);
    }

    private static EventTrigger ReadEventSubscription(Reader reader, MappingView map, string name, long line)
    {
        reader.RejectUnknownKeys(map, ["name", "event", "tenant", "filter", "goal", "input"], $"trigger '{name}'");
        var subscription = reader.Mapping(map.Find("event")!, $"triggers.{name}.event");
        reader.RejectUnknownKeys(subscription, ["exchange", "routing_key", "type"], $"triggers.{name}.event");
        var exchange = subscription.Find("exchange") is { } e
            ? reader.Scalar(e, $"triggers.{name}.event.exchange").Trim()
            : throw reader.Error(subscription, $"triggers.{name}.event needs exchange: the RabbitMQ exchange the upstream system publishes its events to.");
        if (!ExchangeNamePattern().IsMatch(exchange))
        {
            throw reader.Error(e, $"'{exchange}' is not an exchange name: use letters, digits, '.', '-', '_' and ':'.");
        }

        var routingKey = subscription.Find("routing_key") is { } r ? reader.Scalar(r, $"triggers.{name}.event.routing_key").Trim() : "#";
        var type = subscription.Find("type") is { } typeNode ? reader.Scalar(typeNode, $"triggers.{name}.event.type") : "topic";
        if (type is not ("topic" or "direct" or "fanout"))
        {
            throw reader.Error(subscription.Find("type")!, $"triggers.{name}.event.type must be topic, direct or fanout (the exchange's type, as the upstream declares it), not '{type}'.");
        }

        return new EventTrigger(name, ReadRunMapping(reader, map, name, filterAllowed: true), line, exchange, routingKey, type);
    }

    private static RunMapping ReadRunMapping(Reader reader, MappingView map, string name, bool filterAllowed)
    {
        var goalNode = map.Find("goal") ?? throw reader.Error(map, $"trigger '{name}' needs goal: what each run is to achieve, a template such as \"Review PR #{{{{pull_request.number}}}}: {{{{pull_request.title}}}}\".");
        var goal = reader.Scalar(goalNode, $"triggers.{name}.goal");
        CheckTemplate(reader, goalNode, goal, $"triggers.{name}.goal");
        if (string.IsNullOrWhiteSpace(goal))
        {
            throw reader.Error(goalNode, $"triggers.{name}.goal is empty.");
        }

        var input = map.Find("input") is { } inputNode ? ToJson(reader, inputNode, $"triggers.{name}.input") : null;
        var filter = new List<TriggerFilter>();
        if (map.Find("filter") is { } filterNode)
        {
            if (!filterAllowed)
            {
                throw reader.Error(filterNode, $"a schedule has nothing to filter; remove triggers.{name}.filter.");
            }

            foreach (var (key, value) in reader.Mapping(filterNode, $"triggers.{name}.filter").Node.Children)
            {
                var path = reader.Scalar(key, $"a path in triggers.{name}.filter");
                if (!RunMapping.IsPath(path))
                {
                    throw reader.Error(key, $"'{path}' is not a path into the payload; write it like action or pull_request.base.ref.");
                }

                var values = value is YamlSequenceNode list ? list.Children : [value];
                filter.Add(new TriggerFilter(path, [.. values.Select(v => reader.Scalar(v, $"a value of triggers.{name}.filter.{path}"))]));
            }
        }

        return new RunMapping(goal, input, filter);
    }

    private static void CheckTemplate(Reader reader, YamlNode node, string template, string what)
    {
        foreach (var path in RunMapping.PathsIn(template))
        {
            if (!RunMapping.IsPath(path))
            {
                throw reader.Error(node, $"'{{{{{path}}}}}' in {what} is not a path into the payload; write it like {{{{pull_request.number}}}} or {{{{items[0].sku}}}}.");
            }
        }
    }

    /// The input template as JSON; quoted scalars stay strings, plain ones that read as numbers or
    /// true/false take that type, as YAML means them.
    private static JsonNode? ToJson(Reader reader, YamlNode node, string what) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(reader.Scalar(p.Key, $"a key of {what}"), ToJson(reader, p.Value, $"{what}.{(p.Key as YamlScalarNode)?.Value}")))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(item => ToJson(reader, item, $"{what}[]"))]),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var plain } when plain is "null" or "~" or "" => null,
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } boolean => JsonValue.Create(boolean.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var number } when long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) => JsonValue.Create(whole),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var number } when double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) => JsonValue.Create(real),
        YamlScalarNode { Value: var text } => Checked(reader, node, text ?? "", what),
        _ => throw reader.Error(node, $"{what} must be a value, a list or a mapping."),
    };

    private static JsonValue Checked(Reader reader, YamlNode node, string text, string what)
    {
        CheckTemplate(reader, node, text, what);
        return JsonValue.Create(text);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex SecretNamePattern();

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex HeaderNamePattern();

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:-]{1,200}$")]
    private static partial System.Text.RegularExpressions.Regex ExchangeNamePattern();
}
