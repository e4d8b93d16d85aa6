using YamlDotNet.RepresentationModel;

namespace Agentry.Agents.Pinning;

/// A definition that asks another model: the fork or replay of a run with --model (docs/durability.md).
/// It is a definition of its own, pinned under its own hash, so every service of the run acts on the
/// same model (planning, summaries, a judge that uses the agent's model) through the model gateway
/// as for any definition, and the run's view shows it differs from the agent's.
public static class DefinitionModels
{
    /// The definition's text with its model replaced by model: "name", on the definition's provider,
    /// or "provider:name" when the part before the first ':' is a configured provider. Temperature and
    /// cache settings stay; fallbacks go, since the model asked for is the one to compare.
    public static string WithModel(string yaml, string model, ISet<string>? knownProviders)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var key = new YamlScalarNode("model");
        var old = root.Children.TryGetValue(key, out var node) ? node as YamlMappingNode : null;

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

        root.Children[key] = replaced;
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
