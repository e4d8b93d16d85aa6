using System.Globalization;
using System.Text.Json;

namespace Agentry.ServiceDefaults;

/// A tool call's arguments in one canonical text, so that two calls compare as the same call when
/// their arguments differ only in key order, spacing, escaping or number notation: the Evaluator's
/// loop detection and a replay's comparison with the recorded decisions.
public static class CallArguments
{
    public static string Canonical(JsonElement arguments) => arguments.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", arguments.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{JsonSerializer.Serialize(p.Name)}:{Canonical(p.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", arguments.EnumerateArray().Select(Canonical)) + "]",
        JsonValueKind.String => JsonSerializer.Serialize(arguments.GetString()),
        JsonValueKind.Number when arguments.TryGetDecimal(out var number) => (number / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture),
        _ => arguments.GetRawText(),
    };
}
