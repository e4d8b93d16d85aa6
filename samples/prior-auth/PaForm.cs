using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Agents.Json;
using Json.Schema;

namespace Agentry.Samples.PriorAuth;

/// The payer's PA form: its JSON Schema (pa-form.schema.json, embedded) and the check against it.
/// payer_submit_pa takes the form as its `form` argument with this schema, so the Planner refuses a
/// form that does not fit before a clinician is asked to approve it, and the model sees the problems.
public static class PaForm
{
    private const string Resource = "pa-form.schema.json";

    /// The form's schema as the property of a tool's arguments: without `$schema`, which only a
    /// document's root may carry.
    public static string PropertySchema { get; } = Load();

    private static readonly JsonSchema Compiled = JsonSchema.FromText(PropertySchema);

    /// Each problem as "location: problem"; empty when the form fits the payer's schema.
    public static IReadOnlyList<string> Problems(JsonElement form) => JsonSchemaCheck.Problems(Compiled, form, "form");

    private static string Load()
    {
        using var stream = typeof(PaForm).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The assembly {typeof(PaForm).Assembly.GetName().Name} lacks its embedded {Resource}.");
        var schema = JsonNode.Parse(stream)!.AsObject();
        schema.Remove("$schema");
        return schema.ToJsonString();
    }
}
