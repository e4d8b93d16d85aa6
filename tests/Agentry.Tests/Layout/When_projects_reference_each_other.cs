using System.Xml.Linq;
using Agentry.Tests.Deploy;

namespace Agentry.Tests.Layout;

/// The map of docs/layout.md, enforced: what each project may reference. A service never
/// references another service (they talk only through contracts on the bus), contracts reference
/// nothing but MassTransit.Abstractions, and the platform never reaches up into services.
public sealed class When_projects_reference_each_other
{
    /// What each project may reference, by its folder; a folder not named here may reference nothing.
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["contracts/Agentry.Contracts"] = [],
        ["platform/Agentry.ServiceDefaults"] = ["contracts/Agentry.Contracts"],
        ["platform/Agentry.Agents"] = ["contracts/Agentry.Contracts"],
        ["platform/Agentry.Tools"] = ["contracts/Agentry.Contracts", "platform/Agentry.Agents"],
        ["platform/Agentry.Llm"] = ["contracts/Agentry.Contracts", "platform/Agentry.ServiceDefaults", "platform/Agentry.Agents"],
        ["platform/Agentry.Evaluation"] = ["contracts/Agentry.Contracts", "platform/Agentry.Agents", "platform/Agentry.Llm"],
        ["samples/*"] = ["contracts/Agentry.Contracts", "platform/Agentry.Agents", "platform/Agentry.Tools"],
        ["samples/shipped"] = ["contracts/Agentry.Contracts", "platform/Agentry.Agents", "platform/Agentry.Tools", "samples/*"],
        ["services/*"] = ["contracts/Agentry.Contracts", "platform/*", "samples/*"],
        ["cli/Agentry.Cli"] = ["contracts/Agentry.Contracts", "platform/*", "samples/*", "services/*"],
    };

    public static IEnumerable<string> Projects() =>
        Directory.EnumerateFiles(RepositoryFiles.Root, "*.csproj", SearchOption.AllDirectories)
            .Select(Relative)
            .Where(p => p.Split('/')[0] is "contracts" or "platform" or "samples" or "services" or "cli")
            .Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(Projects))]
    public void Should_reference_only_what_the_layout_allows(string project)
    {
        var folder = FolderOf(project);
        var allowed = AllowedFor(folder);
        Assert.That(allowed, Is.Not.Null, $"{folder} is not on the map in docs/layout.md: add it there and to this test");
        foreach (var reference in References(project))
        {
            Assert.That(allowed!.Any(a => Matches(a, FolderOf(reference))), Is.True,
                $"{project} references {reference}, which docs/layout.md does not allow (allowed: {string.Join(", ", allowed!)})");
        }
    }

    /// Merges of the solution file have lost EndProject lines before; MSBuild read on past them and
    /// silently left the next project out of the solution.
    [Test]
    public void Should_list_every_project_in_the_solution_each_with_its_end()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "Agentry.sln"));
        var open = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("Project(", StringComparison.Ordinal))
            {
                Assert.That(open, Is.False, $"Agentry.sln:{i + 1}: a Project starts before the previous one's EndProject");
                open = true;
            }
            else if (lines[i] == "EndProject")
            {
                open = false;
            }
        }

        var listed = lines.Where(l => l.StartsWith("Project(", StringComparison.Ordinal))
            .Select(l => l.Split('"')[5].Replace('\\', '/'))
            .Where(p => p.EndsWith(".csproj", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        Assert.That(Projects().Where(p => !listed.Contains(p)), Is.Empty, "projects missing from Agentry.sln (dotnet sln add them)");
    }

    [Test]
    public void Should_keep_every_service_apart_from_the_others()
    {
        var services = Projects().Where(p => p.StartsWith("services/", StringComparison.Ordinal)).ToList();
        Assert.That(services, Has.Count.EqualTo(6));
        foreach (var service in services)
        {
            Assert.That(References(service).Where(r => r.StartsWith("services/", StringComparison.Ordinal)), Is.Empty,
                $"{service} references another service; services exchange messages from Agentry.Contracts instead");
        }
    }

    [Test]
    public void Should_give_the_contracts_no_dependency_but_masstransit_abstractions()
    {
        const string contracts = "contracts/Agentry.Contracts/Agentry.Contracts.csproj";
        var packages = Items(contracts, "PackageReference").ToList();
        Assert.That(References(contracts), Is.Empty);
        Assert.That(packages, Is.EqualTo(new[] { "MassTransit.Abstractions" }));
        Assert.That(Items(contracts, "FrameworkReference"), Is.Empty);
    }

    [TestCase("services/Planner", "services/ToolExecutor")]
    [TestCase("platform/Agentry.Agents", "platform/Agentry.ServiceDefaults")]
    [TestCase("platform/Agentry.ServiceDefaults", "platform/Agentry.Agents")]
    [TestCase("platform/Agentry.Tools", "services/ToolExecutor")]
    [TestCase("samples/order-desk", "services/ToolExecutor")]
    [TestCase("contracts/Agentry.Contracts", "platform/Agentry.Agents")]
    [TestCase("platform/Agentry.Evaluation", "services/Memory")]
    public void Should_refuse_a_reference_that_crosses_the_map(string from, string to)
    {
        Assert.That(AllowedFor(from)!.Any(a => Matches(a, to)), Is.False);
    }

    private static string[]? AllowedFor(string folder) =>
        Allowed.TryGetValue(folder, out var exact) ? exact
        : Allowed.FirstOrDefault(a => a.Key.EndsWith("/*", StringComparison.Ordinal) && Matches(a.Key, folder)).Value;

    private static bool Matches(string pattern, string folder) =>
        pattern.EndsWith("/*", StringComparison.Ordinal)
            ? folder.StartsWith(pattern[..^1], StringComparison.Ordinal) && !folder[(pattern.Length - 1)..].Contains('/', StringComparison.Ordinal)
            : folder == pattern;

    private static IEnumerable<string> References(string project) =>
        Items(project, "ProjectReference").Select(include => Relative(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(RepositoryFiles.PathOf(project))!, include))));

    private static IEnumerable<string> Items(string project, string item) =>
        XDocument.Load(RepositoryFiles.PathOf(project)).Descendants(item).Select(e => (string?)e.Attribute("Include") ?? "");

    private static string FolderOf(string project) => project[..project.LastIndexOf('/')];

    private static string Relative(string path) => Path.GetRelativePath(RepositoryFiles.Root, path).Replace(Path.DirectorySeparatorChar, '/');
}
