using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Agentry.Tests.ContractSchemas;

/// The shape of a type as a serializer writes it (its properties, and theirs, to the leaves), compared
/// with a recorded document, and a document of that shape with every property filled.
public static class Shapes
{
    private const int MaxDepth = 8;

    /// What the recorded document lacks of the type's shape, and what it holds that the type no longer has.
    public static (List<string> Missing, List<string> Unknown) Compare(Type type, JsonNode? document, JsonSerializerOptions options)
    {
        var missing = new List<string>();
        var unknown = new List<string>();
        Walk(options.GetTypeInfo(type), document, "", options, missing, unknown, 0);
        return (missing, unknown);
    }

    /// A document of the type with a value in every property, every list one item long: a message
    /// recorded this way makes a fixture that shows any later change of its shape.
    public static JsonNode? Sample(Type type, JsonSerializerOptions options, int depth = 0)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (Leaf(underlying) is { } leaf)
        {
            return JsonSerializer.SerializeToNode(leaf, underlying, options);
        }

        if (underlying == typeof(JsonElement) || underlying == typeof(object))
        {
            return new JsonObject { ["sample"] = "any JSON" };
        }

        var info = options.GetTypeInfo(underlying);
        return info.Kind switch
        {
            _ when depth > MaxDepth => null,
            JsonTypeInfoKind.Object => new JsonObject(info.Properties
                .Where(p => p.Get is not null)
                .Select(p => KeyValuePair.Create(p.Name, Sample(p.PropertyType, options, depth + 1)))),
            JsonTypeInfoKind.Enumerable => new JsonArray(Sample(info.ElementType!, options, depth + 1)),
            JsonTypeInfoKind.Dictionary => new JsonObject { ["key"] = Sample(info.ElementType!, options, depth + 1) },
            _ => throw new NotSupportedException($"No sample value for {underlying}: add one to Shapes.Leaf."),
        };
    }

    private static void Walk(JsonTypeInfo info, JsonNode? node, string path, JsonSerializerOptions options, List<string> missing, List<string> unknown, int depth)
    {
        if (depth > MaxDepth || Leaf(info.Type) is not null || info.Type == typeof(JsonElement) || info.Type == typeof(object))
        {
            return;
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                if (node is not JsonObject document)
                {
                    if (info.Properties.Count > 0)
                    {
                        missing.Add($"{Name(path)} (null or not an object, so its fields are not recorded)");
                    }

                    return;
                }

                var properties = info.Properties.Where(p => p.Get is not null).ToList();
                foreach (var property in properties)
                {
                    var key = document.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                    if (key is null)
                    {
                        missing.Add(Join(path, property.Name));
                        continue;
                    }

                    var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                    Walk(options.GetTypeInfo(type), document[key], Join(path, property.Name), options, missing, unknown, depth + 1);
                }

                unknown.AddRange(document
                    .Where(p => !properties.Any(q => string.Equals(q.Name, p.Key, StringComparison.OrdinalIgnoreCase)))
                    .Select(p => Join(path, p.Key)));
                return;
            case JsonTypeInfoKind.Enumerable:
                var element = options.GetTypeInfo(Nullable.GetUnderlyingType(info.ElementType!) ?? info.ElementType!);
                if (node is JsonArray { Count: > 0 } items)
                {
                    Walk(element, items[0], path + "[]", options, missing, unknown, depth + 1);
                }
                else if (element.Kind != JsonTypeInfoKind.None)
                {
                    missing.Add($"{Name(path)}[] (an empty list, so its items' fields are not recorded)");
                }

                return;
            case JsonTypeInfoKind.Dictionary:
                if (node is JsonObject { Count: > 0 } entries)
                {
                    Walk(options.GetTypeInfo(Nullable.GetUnderlyingType(info.ElementType!) ?? info.ElementType!), entries.First().Value, path + "{}", options, missing, unknown, depth + 1);
                }

                return;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Name(string path) => path.Length == 0 ? "the document" : path;

    /// A fixed value of a type written as one JSON value, so that recorded samples do not change between recordings.
    private static object? Leaf(Type type)
    {
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue(values.Length - 1);
        }

        return type switch
        {
            _ when type == typeof(string) => "text",
            _ when type == typeof(Guid) => Guid.Parse("6f1c1d2e-8a4b-4c3d-9e2f-0a1b2c3d4e5f"),
            _ when type == typeof(int) => 2,
            _ when type == typeof(long) => 2L,
            _ when type == typeof(double) => 0.5,
            _ when type == typeof(float) => 0.5f,
            _ when type == typeof(decimal) => 1.25m,
            _ when type == typeof(bool) => true,
            _ when type == typeof(DateTimeOffset) => new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero),
            _ when type == typeof(DateTime) => new DateTime(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc),
            _ when type == typeof(DateOnly) => new DateOnly(2026, 12, 6),
            _ when type == typeof(TimeOnly) => new TimeOnly(12, 0),
            _ when type == typeof(TimeSpan) => TimeSpan.FromMinutes(1),
            _ when type == typeof(Uri) => new Uri("https://example.com/runs/1"),
            _ when type == typeof(byte[]) => "sample"u8.ToArray(),
            _ => null,
        };
    }
}
