using System.Diagnostics.CodeAnalysis;

namespace Agentry.Agents.Tools;

/// Sub-agents as tools: `agent:NAME` in an agent's tools offers the model a tool whose one argument
/// is the sub-goal; a call starts a child run of agent NAME and its answer is the call's outcome.
/// Model APIs allow only letters, digits and '_' in function names, so the model sees
/// `agent__NAME` (with '-' written '_'); agent names never contain '_', so the mapping is reversible.
public static class SubAgentTools
{
    public const string Prefix = "agent:";

    public const string FunctionPrefix = "agent__";

    public const string ArgumentsSchema = """
        {
          "type": "object",
          "properties": {
            "goal": { "type": "string", "minLength": 1, "maxLength": 4000, "description": "What the sub-agent should achieve, in words, with everything it needs to know." }
          },
          "required": ["goal"],
          "additionalProperties": false
        }
        """;

    public static string ToolName(string agent) => Prefix + agent;

    public static bool IsSubAgent(string tool) => tool.StartsWith(Prefix, StringComparison.Ordinal);

    public static bool TryGetAgent(string tool, [NotNullWhen(true)] out string? agent)
    {
        agent = IsSubAgent(tool) && tool.Length > Prefix.Length ? tool[Prefix.Length..] : null;
        return agent is not null;
    }

    /// The descriptor offered to the model. A child run may do anything its own tools allow, so the
    /// call counts as having side effects; it is started once per call all the same (its run id is
    /// derived from the parent's run and call ids).
    public static ToolDescriptor Descriptor(string agent, string description) => new(
        ToolName(agent),
        $"Hands a sub-goal to the agent '{agent}' and returns its answer. {description}".Trim(),
        ArgumentsSchema,
        SideEffects: true);

    /// The name the model sees for a tool (only sub-agents differ).
    public static string FunctionName(string tool) =>
        TryGetAgent(tool, out var agent) ? FunctionPrefix + agent.Replace('-', '_') : tool;

    /// The tool a model's function name stands for.
    public static string ToolOfFunction(string function) =>
        function.StartsWith(FunctionPrefix, StringComparison.Ordinal) && function.Length > FunctionPrefix.Length
            ? Prefix + function[FunctionPrefix.Length..].Replace('_', '-')
            : function;
}
