namespace Agentry.Agents.Tools;

/// What the model is told about a tool and what the ToolExecutor validates calls against.
/// ArgumentsSchema is a JSON Schema (draft 2020-12) of the arguments object. A tool with
/// SideEffects changes something outside the run: after a crash it is never run a second time,
/// and an agent's `read_only` policy refuses it.
public sealed record ToolDescriptor(string Name, string Description, string ArgumentsSchema, bool SideEffects = false)
{
    /// Whether a call changes something depends on its arguments (http_request: a POST does, a GET
    /// not); the implementation decides per call (IArgumentDependentSideEffects).
    public bool SideEffectsDependOnArguments { get; init; }

    /// The tool reaches the hosts named in its arguments, so an agent's `allowed_hosts` applies to it.
    public bool ReachesHosts { get; init; }

    /// The settings an agent may give the tool in its YAML (`settings:` under the tool), each with
    /// what it means; the tool reads them from its invocation's policy.
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// Whether some call of the tool changes nothing, so that a `read_only` policy can allow it.
    public bool CanBeReadOnly => !SideEffects || SideEffectsDependOnArguments;
}
