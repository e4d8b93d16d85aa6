using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Agentry.Contracts;
using Json.Schema;
using MassTransit.Serialization;

namespace Agentry.Tests.ContractSchemas;

/// contracts/schemas/ holds a JSON Schema of every message, for publishers outside .NET. This checks
/// that they match the records, as MassTransit serializes them. After a contract change, regenerate
/// them with: AGENTRY_UPDATE_SCHEMAS=1 dotnet test --filter When_message_schemas_are_checked
public sealed class When_message_schemas_are_checked
{
    private static readonly string SchemaFolder = Path.Combine(Path.GetDirectoryName(TestAgents.RepositoryAgentsFolder())!, "contracts", "schemas");

    public static IEnumerable<Type> Messages() =>
        typeof(GoalReceived).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "Agentry.Contracts" && t.IsClass && (t.GetProperty("RunId") ?? t.GetProperty("TenantId")) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    public static JsonObject Generate(Type message)
    {
        var schema = (JsonObject)JsonSchemaExporter.GetJsonSchemaAsNode(SystemTextJsonMessageSerializer.Options, message,
            new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true, TransformSchemaNode = DescribeDecimals });
        var document = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"https://agentry.dev/schemas/{message.Name}.schema.json",
            ["title"] = message.Name,
            ["x-exchange"] = $"Agentry.Contracts:{message.Name}",
            ["x-message-type"] = $"urn:message:Agentry.Contracts:{message.Name}",
        };
        foreach (var (name, value) in schema.ToList())
        {
            schema.Remove(name);
            document[name] = value;
        }

        return document;
    }

    // MassTransit writes a decimal as a string, to keep it exact, and reads a string or a number.
    // The exporter cannot see through that converter (it describes such a property as anything at
    // all, and never calls the transform for it), so the object that holds one describes it.
    private static JsonNode DescribeDecimals(JsonSchemaExporterContext context, JsonNode schema)
    {
        if (schema is not JsonObject { } node || node["properties"] is not JsonObject properties)
        {
            return schema;
        }

        foreach (var property in context.TypeInfo.Properties.Where(p => p.PropertyType == typeof(decimal) || p.PropertyType == typeof(decimal?)))
        {
            var described = new JsonObject
            {
                ["$comment"] = "A decimal amount, written as a string to keep it exact; a JSON number is accepted too.",
                ["type"] = property.PropertyType == typeof(decimal) ? new JsonArray("string", "number") : new JsonArray("string", "number", "null"),
                ["pattern"] = @"^-?\d+(\.\d+)?$",
            };
            if (properties[property.Name] is JsonObject existing && existing.TryGetPropertyValue("default", out var value))
            {
                described["default"] = value?.DeepClone();
            }

            properties[property.Name] = described;
        }

        return schema;
    }

    private static string Render(JsonObject schema) =>
        schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    [TestCaseSource(nameof(Messages))]
    public void Should_match_the_record(Type message)
    {
        var path = Path.Combine(SchemaFolder, $"{message.Name}.schema.json");
        var expected = Render(Generate(message));
        if (Environment.GetEnvironmentVariable("AGENTRY_UPDATE_SCHEMAS") == "1")
        {
            Directory.CreateDirectory(SchemaFolder);
            File.WriteAllText(path, expected);
        }

        Assert.That(File.Exists(path), $"{path} is missing; regenerate with AGENTRY_UPDATE_SCHEMAS=1");
        Assert.That(File.ReadAllText(path), Is.EqualTo(expected), $"{path} is out of date; regenerate with AGENTRY_UPDATE_SCHEMAS=1");
    }

    [Test]
    public void Should_have_no_schema_for_a_message_that_no_longer_exists()
    {
        var known = Messages().Select(t => $"{t.Name}.schema.json").ToHashSet();

        Assert.That(Directory.GetFiles(SchemaFolder).Select(Path.GetFileName).Where(f => !known.Contains(f!)), Is.Empty);
    }

    [Test]
    public void Should_accept_the_goal_that_docs_integration_md_publishes()
    {
        var schema = JsonSchema.FromFile(Path.Combine(SchemaFolder, "GoalReceived.schema.json"));
        var goal = JsonNode.Parse("""
            {"runId":"6f1c1d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","tenantId":"acme","agent":"assistant",
             "goal":"What is 17 * 23 + 4?","input":{"ticket":42},"trigger":"Event","limits":{"maxSteps":5,"deadline":"00:02:00"}}
            """);

        Assert.That(schema.Evaluate(goal).IsValid, Is.True);
    }

    [Test]
    public void Should_refuse_a_goal_with_a_limit_of_the_wrong_type()
    {
        var schema = JsonSchema.FromFile(Path.Combine(SchemaFolder, "GoalReceived.schema.json"));
        var goal = JsonNode.Parse("""{"runId":"6f1c1d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f","tenantId":"acme","agent":"assistant","goal":"x","limits":{"maxSteps":"many"}}""");

        Assert.That(schema.Evaluate(goal).IsValid, Is.False);
    }

    [Test]
    public void Should_round_trip_a_goal_through_masstransits_serializer_options()
    {
        var goal = new GoalReceived(Guid.NewGuid(), "acme", "assistant", "What is 2 + 3?", Trigger: TriggerKind.Event, Limits: new RunLimits(MaxSteps: 3));
        var json = JsonSerializer.Serialize(goal, SystemTextJsonMessageSerializer.Options);
        var schema = JsonSchema.FromFile(Path.Combine(SchemaFolder, "GoalReceived.schema.json"));

        Assert.That(schema.Evaluate(JsonNode.Parse(json)).IsValid, Is.True, json);
        Assert.That(JsonSerializer.Deserialize<GoalReceived>(json, SystemTextJsonMessageSerializer.Options), Is.EqualTo(goal with { Limits = goal.Limits }).Using<GoalReceived>((a, b) => a.RunId == b.RunId && a.Limits == b.Limits && a.Trigger == b.Trigger));
    }

    [Test]
    public void Should_list_every_message_the_services_exchange()
    {
        Assert.That(Messages().Select(t => t.Name), Is.SupersetOf(new[]
        {
            "GoalReceived", "ContextRequested", "ContextLoaded", "StepPlanned", "ToolResult", "GoalEvaluated",
            "RunCompleted", "RunFailed", "RunEscalated", "RunCancelled", "CancelRun",
        }));
    }

}
