using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Tools;

namespace Agentry.Tests.Tools.Sandbox;

/// `agentry serve` in this process: the coder agent (sandbox outputs "*.patch" and "report.md") runs a
/// program that writes files; when the run ends the ToolExecutor sends the outputs to Memory, and
/// they are listed and fetched over HTTP and by `agentry artifacts`, for the run's tenant only.
public sealed class When_a_runs_artifacts_are_fetched : AgentryServerFixture
{
    private const string Program = "open('report.md','w').write('# done'); open('big.patch','w').write('x' * 2000000); open('scratch.txt','w').write('tmp')";

    private static readonly string ReportSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("# done")));

    protected override void Configure(Dictionary<string, string?> settings)
    {
        if (SandboxTools.WhyUnavailable(new SandboxOptions()) is { } reason)
        {
            Assert.Fail($"The sandbox is not available on this host: {reason}. test.sh installs bubblewrap and python3 (scripts/sandbox.sh).");
        }

        settings["Tools:Files:Root"] = Folder.File("workspaces");
    }

    [Test]
    public async Task Should_list_the_kept_Artifacts_and_say_why_one_was_left_out()
    {
        var runId = await RunCoderAsync();

        var list = await ArtifactsOfAsync(runId);

        Assert.That(list.Artifacts.Select(a => a.Name), Is.EqualTo(new[] { "big.patch", "report.md" }), "scratch.txt is no declared output");
        Assert.That(list.Artifacts[1], Is.EqualTo(new ArtifactInfo("report.md", 6, ReportSha256)));
        Assert.That((list.Artifacts[0].Size, list.Artifacts[0].Sha256), Is.EqualTo((2_000_000L, (string?)null)));
        Assert.That(list.Artifacts[0].LeftOut, Does.Contain("over the 1 MiB one artifact may have (Tools:Sandbox:MaxArtifactBytes)"));
        await Eventually.Until(() => Task.FromResult(Directory.Exists(Path.Combine(Folder.File("workspaces"), "artifacts", runId.ToString())) ? null : "gone"),
            "the ToolExecutor's own copy to be deleted once Memory has the artifacts");
        Assert.That(Directory.Exists(Path.Combine(Folder.File("workspaces"), runId.ToString())), Is.False, "the workspace is deleted");
    }

    [Test]
    public async Task Should_give_an_Artifacts_bytes_as_a_download_and_refuse_a_left_out_one_with_the_reason()
    {
        var runId = await RunCoderAsync();
        await ArtifactsOfAsync(runId);

        using var report = await Http.GetAsync($"/runs/{runId}/artifacts/report.md");
        using var big = await Http.GetAsync($"/runs/{runId}/artifacts/big.patch");
        using var missing = await Http.GetAsync($"/runs/{runId}/artifacts/scratch.txt");

        Assert.That(report.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await report.Content.ReadAsStringAsync(), Is.EqualTo("# done"));
        Assert.That(report.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/markdown"));
        Assert.That(report.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"), "agent-written bytes are never rendered on the Gateway's origin");
        Assert.That(report.Headers.GetValues("X-Artifact-Sha256").Single(), Is.EqualTo(ReportSha256));
        Assert.That(big.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await big.Content.ReadAsStringAsync(), Does.Contain("was not kept").And.Contain("Tools:Sandbox:MaxArtifactBytes"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Should_answer_another_tenant_that_the_run_and_its_Artifacts_are_not_found()
    {
        var runId = await RunCoderAsync();
        await ArtifactsOfAsync(runId);
        var globex = await ClientAsync("globex", [GatewayRoles.Read]);

        using var list = await globex.GetAsync($"/runs/{runId}/artifacts");
        using var file = await globex.GetAsync($"/runs/{runId}/artifacts/report.md");

        Assert.That((list.StatusCode, file.StatusCode), Is.EqualTo((HttpStatusCode.NotFound, HttpStatusCode.NotFound)));
        Assert.That(await file.Content.ReadAsStringAsync(), Does.Not.Contain("# done"));
    }

    [Test]
    public async Task Should_list_and_save_Artifacts_with_the_cli()
    {
        var runId = await RunCoderAsync();
        await ArtifactsOfAsync(runId);
        var target = new GatewayTarget(LocalHttpServer.BaseAddressOf(App).ToString(), await CreateKeyAsync("default", [GatewayRoles.Read]));
        var saved = Folder.File("saved");

        var listed = await CliAsync(target, runId.ToString());
        var one = await CliAsync(target, runId.ToString(), "report.md", saved);
        var leftOut = await CliAsync(target, runId.ToString(), "big.patch", saved);
        var unknown = await CliAsync(target, Guid.NewGuid().ToString());

        Assert.That(listed.Exit, Is.EqualTo(ExitCodes.Completed), listed.Error);
        Assert.That(listed.Output, Does.Contain($"sha256 {ReportSha256}").And.Contain("big.patch").And.Contain("left out: 1.9 MiB, over the 1 MiB"));
        Assert.That(one.Exit, Is.EqualTo(ExitCodes.Completed), one.Error);
        Assert.That(File.ReadAllText(Path.Combine(saved, "report.md")), Is.EqualTo("# done"));
        Assert.That(leftOut.Exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(leftOut.Error, Does.Contain("was not kept"));
        Assert.That(File.Exists(Path.Combine(saved, "big.patch")), Is.False);
        Assert.That(unknown.Exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(unknown.Error, Does.Contain("is known"));
    }

    private async Task<Guid> RunCoderAsync()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "coder", goal = $"Run this Python: `{Program}`" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var runId = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        var run = await Eventually.Until(async () => await Http.GetAsync($"/runs/{runId}") is { IsSuccessStatusCode: true } found
            && await found.Content.ReadFromJsonAsync<RunView>() is { Status: not RunStatus.Running } ended ? ended : null, $"run {runId} to end");
        Assert.That(run.Status, Is.EqualTo(RunStatus.Completed), run.Reason);
        Assert.That(run.Steps.SelectMany(s => s.Outcomes).Select(o => o.Output), Has.Some.Contains("exit 0"), "the program ran in the sandbox");
        return runId;
    }

    /// The list once Memory has the artifacts: they arrive shortly after the run ends.
    private async Task<ArtifactList> ArtifactsOfAsync(Guid runId) =>
        await Eventually.Until(async () => await Http.GetFromJsonAsync<ArtifactList>($"/runs/{runId}/artifacts") is { Artifacts.Count: > 0 } list ? list : null,
            $"the artifacts of run {runId}");

    private static async Task<(int Exit, string Output, string Error)> CliAsync(GatewayTarget target, string runId, string? name = null, string? outFolder = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ArtifactCommands.RunAsync(target, runId, name, outFolder, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }
}
