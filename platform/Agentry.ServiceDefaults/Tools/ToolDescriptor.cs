namespace Agentry.ServiceDefaults.Tools;

/// What the model is told about a tool and what the ToolExecutor validates calls against.
/// ArgumentsSchema is a JSON Schema (draft 2020-12) of the arguments object. A tool with
/// SideEffects changes something outside the run: after a crash it is never run a second time.
public sealed record ToolDescriptor(string Name, string Description, string ArgumentsSchema, bool SideEffects = false);
