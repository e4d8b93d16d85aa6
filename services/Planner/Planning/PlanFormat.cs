using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.ServiceDefaults.Agents;
using Json.Schema;

namespace Agentry.Planner.Planning;

/// The JSON a model writes for a plan, and its validation: first the schema, then what a schema
/// cannot say (the tool is the agent's, a dependency points at an earlier step).
public static class PlanFormat
{
    public const string Schema = """
        {
          "type": "object",
          "properties": {
            "steps": {
              "type": "array",
              "maxItems": 20,
              "items": {
                "type": "object",
                "properties": {
                  "description": { "type": "string", "minLength": 1, "description": "What the step is for; for a sub-goal, the work to do." },
                  "tool": { "type": "string", "minLength": 1, "description": "The tool to call. Leave it out for a sub-goal." },
                  "arguments": { "type": "object", "description": "The tool's arguments." },
                  "depends_on": { "type": "array", "items": { "type": "integer", "minimum": 1 }, "description": "Numbers (1-based) of earlier steps that must finish first." }
                },
                "required": ["description"],
                "dependentRequired": { "tool": ["arguments"], "arguments": ["tool"] },
                "additionalProperties": false
              }
            }
          },
          "required": ["steps"],
          "additionalProperties": false
        }
        """;

    private static readonly JsonSchema Compiled = JsonSchema.FromText(Schema);

    private static readonly EvaluationOptions Validation = new() { OutputFormat = OutputFormat.List };

    /// The plan, or the problems with the text in words a model can act on.
    public static (Plan? Plan, IReadOnlyList<string> Problems) Read(string text, AgentDefinition agent, int revision)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(Unfence(text));
        }
        catch (JsonException e)
        {
            return (null, [$"the reply is not JSON ({e.Message})"]);
        }

        var results = Compiled.Evaluate(node, Validation);
        if (!results.IsValid)
        {
            return (null, results.Details
                .Where(d => d.HasErrors)
                .SelectMany(d => d.Errors!.Select(e => $"{Where(d.InstanceLocation.ToString())}: {e.Value}"))
                .Distinct()
                .ToList());
        }

        var steps = new List<PlanStep>();
        var problems = new List<string>();
        var items = node!["steps"]!.AsArray();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i]!;
            var number = i + 1;
            // Functions reach an OpenAI model as "tools-NAME"; a plan may name them so.
            var tool = item["tool"]?.GetValue<string>() is { } named && named.StartsWith(ToolFunctions.PluginName + "-", StringComparison.Ordinal)
                ? named[(ToolFunctions.PluginName.Length + 1)..]
                : item["tool"]?.GetValue<string>();
            if (tool is not null && !agent.MayUse(tool))
            {
                problems.Add($"step {number}: '{tool}' is not one of this agent's tools ({string.Join(", ", agent.Tools.Select(t => t.Name))})");
            }

            var dependsOn = item["depends_on"]?.AsArray().Select(d => d!.GetValue<int>()).Distinct().Order().ToList() ?? [];
            foreach (var dependency in dependsOn.Where(d => d >= number))
            {
                problems.Add($"step {number}: depends_on {dependency} is not an earlier step; a step can only wait for steps listed before it");
            }

            var arguments = item["arguments"] is { } a ? JsonSerializer.Deserialize<JsonElement>(a.ToJsonString()) : (JsonElement?)null;
            steps.Add(new PlanStep(number, item["description"]!.GetValue<string>(), tool, arguments, dependsOn));
        }

        return problems.Count > 0 ? (null, problems) : (new Plan(revision, steps), []);
    }

    // Models often wrap JSON in a Markdown code fence even when asked not to.
    private static string Unfence(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            return trimmed;
        }

        var start = trimmed.IndexOf('\n', StringComparison.Ordinal);
        var end = trimmed.LastIndexOf("```", StringComparison.Ordinal);
        return start > 0 && end > start ? trimmed[(start + 1)..end].Trim() : trimmed;
    }

    private static string Where(string pointer) => pointer is "" or "#" ? "the plan" : pointer.TrimStart('#');
}
