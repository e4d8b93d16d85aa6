namespace Agentry.Agents.Tools;

/// The arguments schema every tool shares the shape of: a closed object of named properties.
public static class ToolSchema
{
    /// `properties` is the JSON of the properties' members ("name": { ...schema... }, ...).
    public static string ClosedObject(string properties, params string[] required) =>
        $$"""{ "type": "object", "properties": { {{properties}} }, {{(required.Length > 0 ? $"\"required\": [{string.Join(", ", required.Select(r => $"\"{r}\""))}], " : "")}}"additionalProperties": false }""";
}
