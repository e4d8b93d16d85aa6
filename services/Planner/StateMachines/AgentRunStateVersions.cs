using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Agentry.Planner.Persistence;

namespace Agentry.Planner.StateMachines;

/// The schema versions of a run's stored state, and the upgrades between them, in one place
/// (docs/durability.md, "Versions of run state and messages"):
/// 1. AgentRunState as JSON; the fields that hold JSON (EmbeddedJson) are strings of it, escaped.
/// 2. The same, except that such a field holding a JSON object or array is stored as that object or
///    array: nothing to escape when it is written, and readable as it is in redis-cli. Anything else
///    such a field holds (text that is not an object or array, null) stays a string, as in 1.
/// This build writes version 1 unless `Agentry:Schema:Write` says 2, and reads both.
public static class AgentRunStateVersions
{
    /// The fields whose content is a JSON document of its own.
    public static readonly IReadOnlyList<string> EmbeddedJson =
    [
        nameof(AgentRunState.InputJson),
        nameof(AgentRunState.PlannedStepJson),
        nameof(AgentRunState.ToolResultJson),
        nameof(AgentRunState.PlanJson),
        nameof(AgentRunState.PlanRequestJson),
        nameof(AgentRunState.PendingVerdictJson),
        nameof(AgentRunState.GuidanceJson),
    ];

    public static JsonSerializerOptions Version1 { get; } = new(JsonSerializerDefaults.General) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    public static JsonSerializerOptions Version2 { get; } = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver().WithAddedModifier(NestEmbeddedJson),
    };

    /// The versions this build can write, each with the format that reads it directly.
    public static IReadOnlyDictionary<int, JsonSerializerOptions> Formats { get; } = new Dictionary<int, JsonSerializerOptions>
    {
        [1] = Version1,
        [2] = Version2,
    };

    /// From each version to the next. Kept when a version's format is dropped, so that its documents
    /// (a run waiting days for an approval) still read.
    public static IReadOnlyDictionary<int, Func<JsonObject, JsonObject>> Upgrades { get; } = new Dictionary<int, Func<JsonObject, JsonObject>>
    {
        [1] = NestEmbeddedJson,
    };

    public static SagaSchema<AgentRunState> Schema(int write) => new(write, Formats, Upgrades);

    private static void NestEmbeddedJson(JsonTypeInfo info)
    {
        if (info.Type != typeof(AgentRunState))
        {
            return;
        }

        foreach (var property in info.Properties.Where(p => EmbeddedJson.Contains(p.Name)))
        {
            property.CustomConverter = NestedJson.Instance;
        }
    }

    private static JsonObject NestEmbeddedJson(JsonObject version1)
    {
        foreach (var name in EmbeddedJson)
        {
            if (version1[name] is JsonValue value && value.TryGetValue<string>(out var json) && NestedJson.IsContainer(json))
            {
                try
                {
                    version1[name] = JsonNode.Parse(json);
                }
                catch (JsonException)
                {
                    // Not JSON after all: version 2 keeps such a value a string too.
                }
            }
        }

        return version1;
    }

    /// A string of JSON stored as the JSON itself when it is an object or an array.
    private sealed class NestedJson : JsonConverter<string>
    {
        public static readonly NestedJson Instance = new();

        public static bool IsContainer(string json) => json.Length > 1 && json[0] is '{' or '[';

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.StartObject or JsonTokenType.StartArray => JsonElement.ParseValue(ref reader).GetRawText(),
                JsonTokenType.String => reader.GetString(),
                _ => throw new JsonException($"A field holding JSON must be an object, an array, a string or null; it is {reader.TokenType}."),
            };

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            if (IsContainer(value))
            {
                try
                {
                    // Validated before anything is written: text that only looks like JSON becomes a string.
                    writer.WriteRawValue(value);
                    return;
                }
                catch (Exception e) when (e is JsonException or ArgumentException)
                {
                }
            }

            writer.WriteStringValue(value);
        }
    }
}
