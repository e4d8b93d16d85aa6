using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Agentry.ServiceDefaults.Versions;

namespace Agentry.Planner.Persistence;

/// The schema versions of a saga type's stored document: how this build writes it and which
/// versions it reads. The version is the document's first property, `SchemaVersion`; a document
/// without one was written before versions existed and is version 1.
/// - A version this build has a format for (it can write it) is read directly with that format.
/// - An older one is upgraded on read, one step at a time (`upgrades[k]` takes a version k document
///   to k + 1), to the newest version, then read with its format. The upgrades stay when the
///   format of an old version is dropped, so its documents still read.
/// - Anything else is refused with an UnreadableVersionException naming the instance, the version
///   found and the versions this build reads.
public sealed class SagaSchema<TSaga>
    where TSaga : class
{
    private readonly Dictionary<int, JsonSerializerOptions> _formats;
    private readonly IReadOnlyDictionary<int, Func<JsonObject, JsonObject>> _upgrades;
    private readonly JsonSerializerOptions _write;

    /// `formats`: for each version this build can write, the options that map its document onto
    /// TSaga. `upgrades`: for each older version k, the function that makes a k + 1 document of it.
    public SagaSchema(int write, IReadOnlyDictionary<int, JsonSerializerOptions> formats, IReadOnlyDictionary<int, Func<JsonObject, JsonObject>> upgrades)
    {
        if (!formats.ContainsKey(write))
        {
            throw new ArgumentException($"{typeof(TSaga).Name} has no format of version {write} to write; it has {string.Join(", ", formats.Keys.Order())}.", nameof(write));
        }

        Current = formats.Keys.Max();
        _formats = formats.ToDictionary(format => format.Key, format => Stamped(format.Value, format.Key));
        _upgrades = upgrades;
        Write = write;
        _write = _formats[write];
        Reads = [.. Enumerable.Range(1, Current).Where(version => _formats.ContainsKey(version) || Upgradable(version))];
    }

    /// The version this build writes.
    public int Write { get; }

    /// The newest version this build knows, the one older documents are upgraded to.
    public int Current { get; }

    /// Every version this build reads, oldest first.
    public IReadOnlyList<int> Reads { get; }

    public string Serialize(TSaga instance) => JsonSerializer.Serialize(instance, _write);

    /// The instance a stored document holds; `id` names it in a refusal.
    public TSaga Deserialize(ReadOnlySpan<byte> document, Guid id)
    {
        var version = SagaSchema.VersionOf(document);
        if (_formats.TryGetValue(version, out var format))
        {
            return JsonSerializer.Deserialize<TSaga>(document, format) ?? throw Null(id);
        }

        return version < Current && Upgradable(version)
            ? Upgrade(document, version, id)
            : throw new UnreadableVersionException($"The stored state of {typeof(TSaga).Name} {id}", id, version, Reads, isRunState: true);
    }

    /// Reads a document of an older version through its upgrades alone, as a build without that
    /// version's format would: the fixtures' tests read every old fixture both ways.
    public TSaga Upgrade(ReadOnlySpan<byte> document, int version, Guid id)
    {
        var node = JsonNode.Parse(document) as JsonObject ?? throw Null(id);
        for (var step = version; step < Current; step++)
        {
            node = _upgrades[step](node);
            node[SagaSchema.VersionProperty] = step + 1;
        }

        return node.Deserialize<TSaga>(_formats[Current]) ?? throw Null(id);
    }

    private bool Upgradable(int version)
    {
        for (var step = version; step < Current; step++)
        {
            if (!_upgrades.ContainsKey(step))
            {
                return false;
            }
        }

        return version < Current;
    }

    // Each format writes its version as the document's first property, where VersionOf finds it at once.
    private static JsonSerializerOptions Stamped(JsonSerializerOptions format, int version)
    {
        object boxed = version;
        return new JsonSerializerOptions(format)
        {
            TypeInfoResolver = (format.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(info =>
            {
                if (info.Type != typeof(TSaga))
                {
                    return;
                }

                var property = info.CreateJsonPropertyInfo(typeof(int), SagaSchema.VersionProperty);
                property.Get = _ => boxed;
                property.Order = int.MinValue;
                info.Properties.Add(property);
            }),
        };
    }

    private static JsonException Null(Guid id) => new($"The stored {typeof(TSaga).Name} {id} is not a JSON object.");
}

public static class SagaSchema
{
    public const string VersionProperty = "SchemaVersion";

    private static readonly JsonEncodedText EncodedVersionProperty = JsonEncodedText.Encode(VersionProperty);

    /// One version, written and read as the saga's plain JSON: for a saga that has never changed shape.
    public static SagaSchema<TSaga> Unversioned<TSaga>()
        where TSaga : class =>
        new(1, new Dictionary<int, JsonSerializerOptions> { [1] = new(JsonSerializerDefaults.General) }, new Dictionary<int, Func<JsonObject, JsonObject>>());

    /// The document's schema version: its first property, as written; found anywhere at its top
    /// level otherwise; 1 when it has none.
    public static int VersionOf(ReadOnlySpan<byte> document)
    {
        var reader = new Utf8JsonReader(document);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A stored saga must be a JSON object.");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isVersion = reader.ValueTextEquals(EncodedVersionProperty.EncodedUtf8Bytes);
            reader.Read();
            if (isVersion)
            {
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var version)
                    ? version
                    : throw new JsonException($"The {VersionProperty} of a stored saga must be a whole number.");
            }

            reader.Skip();
        }

        return 1;
    }
}
