using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Agentry.Agents.Tools;
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

    /// A check for StructuredReplies: the reply is a plan. The JSON and its schema are checked by
    /// the shared StructuredReplies.CheckJson; then what a schema cannot say.
    public static Func<ModelReply, ReplyCheck<Plan>> Check(AgentDefinition agent, int revision) =>
        reply => Read(StructuredReplies.TextOf(reply), agent, revision);

    /// The plan, or the problems with the text in words a model can act on.
    public static ReplyCheck<Plan> Read(string text, AgentDefinition agent, int revision)
    {
        var json = StructuredReplies.CheckJson(text, Compiled);
        if (!json.IsValid)
        {
            return ReplyCheck.Invalid<Plan>(json.Problems);
        }

        var node = JsonNode.Parse(json.Value.GetRawText())!;
        var steps = new List<PlanStep>();
        var problems = new List<string>();
        var items = node["steps"]!.AsArray();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i]!;
            var number = i + 1;
            // Functions reach an OpenAI model as "tools-NAME"; a plan may name them so.
            var named = item["tool"]?.GetValue<string>();
            var function = named is not null && named.StartsWith(ToolFunctions.PluginName + "-", StringComparison.Ordinal)
                ? named[(ToolFunctions.PluginName.Length + 1)..]
                : named;
            var tool = function is null ? null : SubAgentTools.ToolOfFunction(function);
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

        return problems.Count > 0 ? ReplyCheck.Invalid<Plan>(problems) : ReplyCheck.Valid(new Plan(revision, steps));
    }
}
