using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;

namespace Agentry.Tools;

/// A tool's implementation. Its descriptor (name, description, schema) lives in the ToolCatalog;
/// the arguments it receives have already been validated against that schema.
public interface ITool
{
    string Name { get; }

    Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken);
}

/// Who is calling, for tools whose behaviour depends on the run. Policy: the agent's policy for the
/// tool, for checks a tool must repeat itself (the HTTP tools check allowed_hosts at every redirect).
public sealed record ToolInvocation(Guid RunId, string TenantId, string Agent, int Step, string CallId)
{
    public ToolPolicy Policy { get; init; } = ToolPolicy.Unrestricted;

    /// The agent's sandbox section (limits, inputs), for the code tools.
    public AgentSandbox Sandbox { get; init; } = AgentSandbox.Default;
}

/// A tool whose side effects depend on its arguments (http_request: a POST has them, a GET not).
public interface IArgumentDependentSideEffects
{
    bool HasSideEffects(JsonElement arguments);
}

/// A tool's own refusal or failure, reported to the model as the call's result. CausedByCaller
/// marks a failure of what the model asked (a program that throws, a query with an error), which
/// says nothing about the tool's health, so it does not count towards the tool's circuit breaker.
public sealed class ToolException(ToolErrorKind kind, string message, bool causedByCaller = false) : Exception(message)
{
    public ToolErrorKind Kind { get; } = kind;

    public bool CausedByCaller { get; } = causedByCaller;
}
