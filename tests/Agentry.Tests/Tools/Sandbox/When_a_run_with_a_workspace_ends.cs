using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;
using Agentry.Tests.ToolExecutor;

namespace Agentry.Tests.Tools.Sandbox;

public sealed class When_a_run_with_a_workspace_ends
{
    [Test]
    public void Should_keep_the_declared_outputs_and_delete_the_rest()
    {
        using var root = new TempFolder();
        using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:Files:Root"] = root.Path });
        var artifacts = services.GetRequiredService<RunArtifacts>();
        var run = Guid.NewGuid();
        var workspace = services.GetRequiredService<RunWorkspace>().FolderOf(run);
        Directory.CreateDirectory(Path.Combine(workspace, "results"));
        File.WriteAllText(Path.Combine(workspace, "report.md"), "# done");
        File.WriteAllText(Path.Combine(workspace, "results", "a.csv"), "1");
        File.WriteAllText(Path.Combine(workspace, "scratch.txt"), "tmp");
        File.CreateSymbolicLink(Path.Combine(workspace, "results", "b.csv"), "/etc/hostname");

        var kept = artifacts.EndRun(run, ["report.md", "results/*.csv"]);

        Assert.That(kept, Is.EquivalentTo(new[] { "report.md", Path.Combine("results", "a.csv") }));
        Assert.That(Directory.Exists(workspace), Is.False);
        Assert.That(File.ReadAllText(Path.Combine(artifacts.FolderOf(run), "report.md")), Is.EqualTo("# done"));
        Assert.That(File.Exists(Path.Combine(artifacts.FolderOf(run), "results", "b.csv")), Is.False, "a link is never kept");
    }
}
