using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Agentry.Agents.Json;

/// Checks a JSON value against a JSON Schema and says what is wrong in words. One place for the
/// ToolExecutor (before a tool runs), the Planner (before a step is proposed) and any reply that
/// must follow a schema (plans, judge verdicts).
public static class JsonSchemaCheck
{
    private static readonly EvaluationOptions Validation = new()
    {
        OutputFormat = OutputFormat.List,
        RequireFormatValidation = true,
    };

    /// The problems with the value, each as "location: problem"; empty when it is valid. The
    /// subject names the value in those sentences ("arguments", "reply"). Anything but a JSON
    /// object is refused before the schema is consulted: every structured reply here is an object.
    public static IReadOnlyList<string> Problems(JsonSchema schema, JsonElement value, string subject = "value")
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return [$"the {subject} must be a JSON object, not {Describe(value)}"];
        }

        var results = schema.Evaluate(JsonNode.Parse(value.GetRawText()), Validation);
        if (results.IsValid)
        {
            return [];
        }

        return results.Details
            .Where(d => d.HasErrors)
            .SelectMany(d => d.Errors!.Select(e => $"{Location(d.InstanceLocation.ToString(), subject)}: {e.Value}"))
            .Distinct()
            .ToList();
    }

    private static string Location(string pointer, string subject) => pointer is "" or "#" ? subject : pointer.TrimStart('#');

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string {element.GetRawText()}",
        JsonValueKind.Undefined => "nothing",
        var kind => $"a {kind.ToString().ToLowerInvariant()}",
    };
}
