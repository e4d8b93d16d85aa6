using Agentry.Contracts;

namespace Agentry.Llm;

/// How a tool's outcome is shown to the model: one format, used by Memory when it builds the
/// context and by the offline model when it reads it back.
public static class ToolOutcomeText
{
    private const string ErrorPrefix = "ERROR ";

    public static string Format(ToolOutcome outcome) =>
        outcome.Succeeded ? outcome.Output : $"{ErrorPrefix}{outcome.ErrorKind}: {outcome.Error}";

    public static bool IsError(string text, out string error)
    {
        var isError = text.StartsWith(ErrorPrefix, StringComparison.Ordinal);
        error = isError ? text[ErrorPrefix.Length..] : "";
        return isError;
    }
}
