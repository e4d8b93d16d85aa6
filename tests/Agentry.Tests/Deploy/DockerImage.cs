using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Agentry.Tests.Deploy;

/// deploy/docker/Dockerfile, read as text: what it copies, the port and the user it runs as.
public static partial class DockerImage
{
    public const string Path = "deploy/docker/Dockerfile";

    public static string Text { get; } = RepositoryFiles.Read(Path);

    /// ASPNETCORE_HTTP_PORTS, the port Kestrel listens on in the container.
    public static string HttpPort => HttpPorts().Match(Text) is { Success: true } match ? match.Groups[1].Value : throw new AssertionException($"{Path} sets no ASPNETCORE_HTTP_PORTS.");

    /// The UID of the app user of Microsoft's .NET images ($APP_UID), which the Dockerfile switches to.
    public const string UserId = "1654";

    /// The sources of every COPY without --from: "contracts/Agentry.Contracts/Agentry.Contracts.csproj", "services/", ...
    public static IReadOnlyList<string> CopiedSources =>
        Text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("COPY ", StringComparison.Ordinal) && !line.Contains("--from", StringComparison.Ordinal))
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToList();

    /// A project and every project it references, transitively, as repository-relative paths.
    public static IReadOnlySet<string> ProjectClosure(string project)
    {
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!closure.Add(current))
            {
                continue;
            }

            var folder = System.IO.Path.GetDirectoryName(current)!;
            foreach (var reference in XDocument.Load(RepositoryFiles.PathOf(current)).Descendants("ProjectReference"))
            {
                var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryFiles.Root, folder, reference.Attribute("Include")!.Value));
                pending.Push(System.IO.Path.GetRelativePath(RepositoryFiles.Root, full).Replace('\\', '/'));
            }
        }

        return closure;
    }

    public static string? AssemblyName(string project) =>
        XDocument.Load(RepositoryFiles.PathOf(project)).Descendants("AssemblyName").SingleOrDefault()?.Value;

    [GeneratedRegex(@"ASPNETCORE_HTTP_PORTS=(\d+)")]
    private static partial Regex HttpPorts();
}
