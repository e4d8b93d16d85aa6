namespace Agentry.ServiceDefaults.Tools;

/// What the model is told about a tool and what the ToolExecutor validates calls against.
/// ArgumentsSchema is a JSON Schema (draft 2020-12) of the arguments object.
public sealed record ToolDescriptor(string Name, string Description, string ArgumentsSchema);
