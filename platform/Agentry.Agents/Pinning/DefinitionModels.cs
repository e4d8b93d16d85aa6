using YamlDotNet.RepresentationModel;

namespace Agentry.Agents.Pinning;

/// A definition that asks another model, or never the response cache: the fork or replay of a run
/// with --model, and every replay (docs/durability.md). It is a definition of its own, pinned under its
/// own hash, so every service of the run acts on the same model (planning, summaries, a judge that uses
/// the agent's model) through the model gateway as for any definition, and the run's view shows it
/// differs from the agent's.
public static class DefinitionModels
{
    /// The definition's text with its model replaced by model (null: kept): "name", on the definition's
    /// provider, or "provider:name" when the part before the first ':' is a configured provider; the
    /// temperature stays, fallbacks go (the model asked for is the one to compare). cache: the model's
    /// cache setting (null: kept).
    public static string Variant(string yaml, string? model, bool? cache, ISet<string>? knownProviders)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var key = new YamlScalarNode("model");
        var old = root.Children.TryGetValue(key, out var node) ? node as YamlMappingNode : null;
        if (model is null)
        {
            // The short form (model: NAME) becomes a mapping that keeps the name.
            var kept = old ?? new YamlMappingNode();
            if (old is null && node is YamlScalarNode name)
            {
                kept.Add("name", name);
            }

            if (cache is { } on)
            {
                kept.Children[new YamlScalarNode("cache")] = new YamlScalarNode(on ? "true" : "false");
            }

            root.Children[key] = kept;
            return Save(stream);
        }

        var separator = model.IndexOf(':', StringComparison.Ordinal);
        var named = separator > 0 && knownProviders?.Contains(model[..separator]) == true;
        var provider = named ? model[..separator] : (old?.Children.TryGetValue(new YamlScalarNode("provider"), out var p) == true ? ((YamlScalarNode)p).Value : null);
        var replaced = new YamlMappingNode();
        if (provider is not null)
        {
            replaced.Add("provider", provider);
        }

        replaced.Add("name", named ? model[(separator + 1)..] : model);
        foreach (var kept in new[] { "temperature", "cache" })
        {
            if (old?.Children.TryGetValue(new YamlScalarNode(kept), out var value) == true)
            {
                replaced.Add(kept, value);
            }
        }

        if (cache is { } enabled)
        {
            replaced.Children[new YamlScalarNode("cache")] = new YamlScalarNode(enabled ? "true" : "false");
        }

        root.Children[key] = replaced;
        return Save(stream);
    }

    private static string Save(YamlStream stream)
    {
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
