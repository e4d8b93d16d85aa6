using System.Text.Json;
using Agentry.Contracts;

namespace Agentry.ToolExecutor.Tools;

/// A tool's implementation. Its descriptor (name, description, schema) lives in the ToolCatalog;
/// the arguments it receives have already been validated against that schema.
public interface ITool
{
    string Name { get; }

    Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken);
}

/// Who is calling, for tools whose behaviour depends on the run.
public sealed record ToolInvocation(Guid RunId, string TenantId, string Agent, int Step, string CallId);

/// A tool's own refusal or failure, reported to the model as the call's result.
public sealed class ToolException(ToolErrorKind kind, string message) : Exception(message)
{
    public ToolErrorKind Kind { get; } = kind;
}
