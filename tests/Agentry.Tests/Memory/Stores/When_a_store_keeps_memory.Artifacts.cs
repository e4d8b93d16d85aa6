using System.Security.Cryptography;
using System.Text;
using Agentry.Contracts;

namespace Agentry.Tests.Memory.Stores;

/// The contract for runs' artifacts, on every backend. The names say Artifact so that
/// --filter "FullyQualifiedName~Artifact" picks them.
public sealed partial class When_a_store_keeps_memory
{
    private static ArtifactFile Kept(string name, string text)
    {
        var content = Encoding.UTF8.GetBytes(text);
        return new ArtifactFile(name, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), content);
    }

    private static ArtifactInfo InfoOf(ArtifactFile file) => new(file.Name, file.Size, file.Sha256, file.LeftOut);

    [Test]
    public async Task Should_list_a_runs_Artifacts_in_name_order_with_the_left_out_ones_and_their_reasons()
    {
        var (tenant, run) = (NewTenant(), Guid.NewGuid());
        var report = Kept("report.md", "# done");
        var csv = Kept("results/a.csv", "1,2\n");
        var big = new ArtifactFile("big.patch", 2_000_000, null, null, "1.9 MiB, over the 1 MiB one artifact may have (Tools:Sandbox:MaxArtifactBytes)");
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(run, tenant, [report, csv, big], Unlisted: 3), None);

        var list = await Store.Artifacts.ListAsync(tenant, run, None);

        Assert.That(list.RunId, Is.EqualTo(run));
        Assert.That(list.Artifacts, Is.EqualTo(new[] { InfoOf(big), InfoOf(report), InfoOf(csv) }));
        Assert.That(list.Unlisted, Is.EqualTo(3));
    }

    [Test]
    public async Task Should_give_back_an_Artifact_byte_for_byte_and_a_left_out_one_without_content()
    {
        var (tenant, run) = (NewTenant(), Guid.NewGuid());
        var binary = new ArtifactFile("out/data.bin", 256, Convert.ToHexStringLower(SHA256.HashData(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray())),
            Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        var empty = Kept("empty.txt", "");
        var big = new ArtifactFile("big.patch", 2_000_000, null, null, "too large");
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(run, tenant, [binary, empty, big]), None);

        var got = await Store.Artifacts.GetAsync(tenant, run, "out/data.bin", None);
        var gotEmpty = await Store.Artifacts.GetAsync(tenant, run, "empty.txt", None);
        var gotBig = await Store.Artifacts.GetAsync(tenant, run, "big.patch", None);

        Assert.That(got?.Info, Is.EqualTo(InfoOf(binary)));
        Assert.That(got?.Content, Is.EqualTo(binary.Content));
        Assert.That(gotEmpty?.Content, Is.Not.Null.And.Empty, "an empty file is kept, with no bytes");
        Assert.That(gotBig?.Info, Is.EqualTo(InfoOf(big)));
        Assert.That(gotBig?.Content, Is.Null, "a left-out file has no content");
        Assert.That(await Store.Artifacts.GetAsync(tenant, run, "out", None), Is.Null, "a folder is no artifact");
        Assert.That(await Store.Artifacts.GetAsync(tenant, run, "missing.txt", None), Is.Null);
    }

    [Test]
    public async Task Should_keep_redelivered_RunArtifactsKept_once()
    {
        var (tenant, run) = (NewTenant(), Guid.NewGuid());
        var first = new RunArtifactsKept(run, tenant, [Kept("report.md", "first")]);
        await Store.Artifacts.KeepAsync(first, None);
        await Store.Artifacts.KeepAsync(first, None);
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(run, tenant, [Kept("report.md", "second"), Kept("other.md", "x")], 5), None);

        var list = await Store.Artifacts.ListAsync(tenant, run, None);

        Assert.That(list.Artifacts, Is.EqualTo(new[] { InfoOf(first.Files[0]) }), "the first copy stands");
        Assert.That(list.Unlisted, Is.Zero);
        Assert.That((await Store.Artifacts.GetAsync(tenant, run, "report.md", None))?.Content, Is.EqualTo(Encoding.UTF8.GetBytes("first")));
    }

    [Test]
    public async Task Should_never_show_an_Artifact_to_another_tenant()
    {
        var (acme, globex) = (NewTenant(), NewTenant());
        var run = Guid.NewGuid();
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(run, acme, [Kept("report.md", "secret")]), None);

        Assert.That((await Store.Artifacts.ListAsync(globex, run, None)).Artifacts, Is.Empty);
        Assert.That(await Store.Artifacts.GetAsync(globex, run, "report.md", None), Is.Null);
        Assert.That((await Store.Artifacts.ListAsync(acme, run, None)).Artifacts, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_list_no_Artifacts_for_a_run_without_any()
    {
        var tenant = NewTenant();
        var run = Guid.NewGuid();
        var none = await Store.Artifacts.ListAsync(tenant, run, None);
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(Guid.NewGuid(), tenant, [Kept("report.md", "another run's")]), None);

        Assert.That((none.RunId, none.Artifacts, none.Unlisted), Is.EqualTo((run, Array.Empty<ArtifactInfo>(), 0)));
        Assert.That((await Store.Artifacts.ListAsync(tenant, run, None)).Artifacts, Is.Empty);
        Assert.That(await Store.Artifacts.GetAsync(tenant, run, "report.md", None), Is.Null);
    }

    [Test]
    public async Task Should_keep_a_run_of_Artifacts_up_to_the_cap_of_8_MiB()
    {
        // The most Tools:Sandbox:MaxArtifactsBytes allows: one MongoDB document must hold it.
        var (tenant, run) = (NewTenant(), Guid.NewGuid());
        var files = Enumerable.Range(0, 8).Select(i =>
        {
            var content = RandomNumberGenerator.GetBytes(1 << 20);
            return new ArtifactFile($"part{i}.bin", content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), content);
        }).ToList();
        await Store.Artifacts.KeepAsync(new RunArtifactsKept(run, tenant, files), None);

        Assert.That((await Store.Artifacts.ListAsync(tenant, run, None)).Artifacts, Has.Count.EqualTo(8));
        Assert.That((await Store.Artifacts.GetAsync(tenant, run, "part7.bin", None))?.Content, Is.EqualTo(files[7].Content));
    }
}
