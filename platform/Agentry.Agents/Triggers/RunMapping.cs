using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Agentry.Agents.Triggers;

/// How a trigger turns what fired it (a JSON document: a webhook's body, an event, a schedule's due
/// time) into a run: the goal, a template where {{path}} is a value of the document
/// (`pull_request.number`, `items[0].sku`); the input, a JSON template whose strings are templates
/// too (a string that is one {{path}} alone takes the value with its JSON type); and a filter, paths
/// and the values they must have, so that only some deliveries start a run (`action: opened`).
public sealed partial record RunMapping(string Goal, JsonNode? Input, IReadOnlyList<TriggerFilter> Filter)
{
    /// Why the document does not pass the filter, or null when it does.
    public string? Refusal(JsonElement document)
    {
        foreach (var condition in Filter)
        {
            var value = Find(document, condition.Path);
            var text = value is { } v ? Text(v) : null;
            if (text is null || !condition.Values.Contains(text, StringComparer.Ordinal))
            {
                return $"filtered out: {condition.Path} is {(text is null ? "missing" : $"'{Cut(text)}'")}, not {string.Join(" or ", condition.Values.Select(x => $"'{x}'"))}";
            }
        }

        return null;
    }

    /// The goal and input for the document. Throws TriggerMappingException naming the path that is
    /// missing, so that a delivery that cannot be mapped is refused with that reason.
    public (string Goal, JsonElement? Input) Apply(JsonElement document)
    {
        var goal = Render(Goal, document).Trim();
        if (goal.Length == 0)
        {
            throw new TriggerMappingException("the goal template gave an empty goal.");
        }

        return (goal, Input is null ? null : JsonSerializer.SerializeToElement(RenderNode(Input, document)));
    }

    /// The paths a template names, for checking at load that it parses.
    public static IEnumerable<string> PathsIn(string template) =>
        Placeholder().Matches(template).Select(m => m.Groups["path"].Value);

    public static bool IsPath(string path) => PathPattern().IsMatch(path);

    private static string Render(string template, JsonElement document) =>
        Placeholder().Replace(template, m => Text(Required(document, m.Groups["path"].Value)) ?? "");

    private static JsonNode? RenderNode(JsonNode? template, JsonElement document) => template switch
    {
        JsonObject map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, RenderNode(p.Value, document)))),
        JsonArray list => new JsonArray([.. list.Select(item => RenderNode(item, document))]),
        JsonValue value when value.TryGetValue<string>(out var text) => Placeholder().Match(text) is { Success: true } whole && whole.Length == text.Length
            ? JsonNode.Parse(Required(document, whole.Groups["path"].Value).GetRawText())
            : JsonValue.Create(Render(text, document)),
        _ => template?.DeepClone(),
    };

    private static JsonElement Required(JsonElement document, string path) =>
        Find(document, path) is { ValueKind: not JsonValueKind.Null } value
            ? value
            : throw new TriggerMappingException($"the payload has no value at '{path}'.");

    private static JsonElement? Find(JsonElement document, string path)
    {
        var current = document;
        foreach (Match segment in Segment().Matches(path))
        {
            if (segment.Groups["index"].Success)
            {
                var index = int.Parse(segment.Groups["index"].Value, CultureInfo.InvariantCulture);
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[index];
            }
            else if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment.Groups["key"].Value, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => value.GetRawText(),
    };

    private static string Cut(string text) => text.Length <= 80 ? text : new StringBuilder(text, 0, 80, 83).Append("...").ToString();

    [GeneratedRegex(@"\{\{\s*(?<path>[^{}]*?)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\[\d{1,6}\])*$")]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"(?<key>[A-Za-z0-9_$-]+)|\[(?<index>\d{1,6})\]")]
    private static partial Regex Segment();
}

/// Path must have one of Values (compared as text: a string's value, a number or true/false as written).
public sealed record TriggerFilter(string Path, IReadOnlyList<string> Values);

/// A delivery that the trigger's mapping cannot turn into a run; the message says which path failed.
public sealed class TriggerMappingException(string message) : Exception(message);
