using System.Security.Cryptography;
using Agentry.Contracts;
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

    [Test]
    public void Should_collect_the_kept_Artifacts_within_the_caps_and_say_why_the_others_were_left_out()
    {
        using var root = new TempFolder();
        using var services = ToolServices.Build(new Dictionary<string, string?>
        {
            ["Tools:Files:Root"] = root.Path,
            ["Tools:Sandbox:MaxArtifactBytes"] = "1000",
            ["Tools:Sandbox:MaxArtifactsBytes"] = "1500",
            ["Tools:Sandbox:MaxArtifacts"] = "4",
        });
        var artifacts = services.GetRequiredService<RunArtifacts>();
        var run = Guid.NewGuid();
        var workspace = services.GetRequiredService<RunWorkspace>().FolderOf(run);
        Directory.CreateDirectory(Path.Combine(workspace, "out"));
        var sizes = new Dictionary<string, int> { ["a.bin"] = 900, ["b.bin"] = 1001, ["c.bin"] = 700, ["d.bin"] = 601, ["e.bin"] = 1, ["out/f.bin"] = 1 };
        foreach (var (name, size) in sizes)
        {
            File.WriteAllBytes(Path.Combine(workspace, name), RandomNumberGenerator.GetBytes(size));
        }

        artifacts.EndRun(run, ["*.bin", "out/*"]);
        var kept = artifacts.Collect(run, "acme")!;

        Assert.That((kept.RunId, kept.TenantId), Is.EqualTo((run, "acme")));
        Assert.That(kept.Files.Select(f => f.Name), Is.EqualTo(new[] { "a.bin", "b.bin", "c.bin", "d.bin" }), "name order, at most MaxArtifacts listed");
        Assert.That(kept.Unlisted, Is.EqualTo(2), "e.bin and out/f.bin are only counted");
        var a = kept.Files[0];
        Assert.That((a.Size, a.LeftOut, a.Sha256), Is.EqualTo((900L, (string?)null, Convert.ToHexStringLower(SHA256.HashData(a.Content!)))));
        Assert.That(kept.Files[1].LeftOut, Is.EqualTo("1001 bytes, over the 1000 bytes one artifact may have (Tools:Sandbox:MaxArtifactBytes)"));
        Assert.That(kept.Files[2].LeftOut, Is.EqualTo("700 bytes more would take the run's artifacts over the 1.5 KiB a run may keep (Tools:Sandbox:MaxArtifactsBytes)"));
        Assert.That(kept.Files[3].LeftOut, Is.EqualTo("601 bytes more would take the run's artifacts over the 1.5 KiB a run may keep (Tools:Sandbox:MaxArtifactsBytes)"));
        Assert.That(kept.Files.Skip(1).Select(f => (f.Content, f.Sha256)), Is.All.EqualTo(((byte[]?)null, (string?)null)), "a left-out file is not read");
    }

    [Test]
    public void Should_name_Artifacts_in_folders_with_slashes_and_never_open_a_fifo()
    {
        using var root = new TempFolder();
        using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:Files:Root"] = root.Path });
        var artifacts = services.GetRequiredService<RunArtifacts>();
        var run = Guid.NewGuid();
        var workspace = services.GetRequiredService<RunWorkspace>().FolderOf(run);
        Directory.CreateDirectory(Path.Combine(workspace, "results"));
        File.WriteAllText(Path.Combine(workspace, "results", "a.csv"), "1,2");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(workspace, "results", "pipe.csv")))
        {
            mkfifo.WaitForExit();
        }

        artifacts.EndRun(run, ["results/*"]);
        var kept = artifacts.Collect(run, "acme")!;

        Assert.That(kept.Files.Select(f => (f.Name, f.Size)), Is.EqualTo(new[] { ("results/a.csv", 3L), ("results/pipe.csv", 0L) }));
        Assert.That(kept.Files[1].Content, Is.Empty, "a FIFO is kept as an empty file, never read (that would wait for a writer forever)");
    }

    [Test]
    public void Should_collect_nothing_once_the_Artifacts_were_sent_and_forgotten()
    {
        using var root = new TempFolder();
        using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:Files:Root"] = root.Path });
        var artifacts = services.GetRequiredService<RunArtifacts>();
        var run = Guid.NewGuid();
        var workspace = services.GetRequiredService<RunWorkspace>().FolderOf(run);
        Directory.CreateDirectory(workspace);
        File.WriteAllText(Path.Combine(workspace, "report.md"), "# done");
        artifacts.EndRun(run, ["report.md"]);

        Assert.That(artifacts.Collect(run, "acme"), Is.Not.Null);
        Assert.That(artifacts.Collect(run, "acme")?.Files, Has.Count.EqualTo(1), "until forgotten, a redelivered run end sends them again");
        artifacts.Forget(run);

        Assert.That(Directory.Exists(artifacts.FolderOf(run)), Is.False);
        Assert.That(artifacts.Collect(run, "acme"), Is.Null);
        Assert.That(artifacts.EndRun(run, ["report.md"]), Is.Empty);
    }
}
