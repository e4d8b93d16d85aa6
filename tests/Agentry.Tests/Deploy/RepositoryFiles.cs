using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Agentry.Tests.Deploy;

/// The checkout's deployment files, read as plain YAML trees (maps, lists, strings).
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// Every document of a YAML file or stream; compose's `<<: *anchor` merges are applied.
    public static IReadOnlyList<Dictionary<object, object?>> Documents(string yaml, string source)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new MergingParser(new Parser(new StringReader(yaml)));
        var documents = new List<Dictionary<object, object?>>();
        try
        {
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                if (deserializer.Deserialize<object?>(parser) is { } document)
                {
                    documents.Add(document as Dictionary<object, object?>
                        ?? throw new InvalidDataException($"{source}: a document is not a mapping."));
                }
            }
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }

        return documents;
    }

    public static IReadOnlyList<Dictionary<object, object?>> DocumentsOf(string relative) => Documents(Read(relative), relative);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Agentry.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("Agentry.sln was not found above " + AppContext.BaseDirectory);
    }
}

/// Walking a YAML tree by dotted path: "spec.template.spec".
public static class Yaml
{
    public static object? At(this object? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (node is not Dictionary<object, object?> map || !map.TryGetValue(part, out node))
            {
                return null;
            }
        }

        return node;
    }

    public static Dictionary<object, object?> Map(this object? node, string path) =>
        node.At(path) as Dictionary<object, object?> ?? throw new AssertionException($"'{path}' is not a mapping.");

    public static IReadOnlyList<object?> List(this object? node, string path) =>
        node.At(path) as List<object?> ?? [];

    public static string? Text(this object? node, string path) => node.At(path)?.ToString();

    public static string Kind(this Dictionary<object, object?> document) => document.Text("kind") ?? "";

    public static string Name(this Dictionary<object, object?> document) => document.Text("metadata.name") ?? "";
}
