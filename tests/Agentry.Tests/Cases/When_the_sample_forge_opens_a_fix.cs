using System.Diagnostics;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Samples.CodeReview;
using Agentry.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Cases;

/// The code-review sample's forge tools on their own (samples/code-review): what forge_open_fix
/// refuses, that a call delivered twice opens one fix, and a fix given as a unified diff.
public sealed class When_the_sample_forge_opens_a_fix
{
    private TempFolder _folder = null!;
    private ServiceProvider _services = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tools:Forge:Root"] = _folder.File("forge"),
            ["Tools:Files:Root"] = _folder.File("workspaces"),
        }).Build();
        _services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddToolPack(CodeReviewPack.Pack, configuration).BuildServiceProvider();
    }

    [TearDown]
    public async Task Stop()
    {
        await _services.DisposeAsync();
        _folder.Dispose();
    }

    private string Repository => Path.Combine(_folder.File("forge"), "repositories", "pricing.git");

    private string Forge => Path.Combine(_folder.File("forge"), "forge.db");

    private Task<string> Call(string tool, object arguments, ToolInvocation run) =>
        _services.GetServices<ITool>().Single(t => t.Name == tool).InvokeAsync(JsonSerializer.SerializeToElement(arguments), run, CancellationToken.None);

    private static ToolInvocation NewRun(string callId = "call_1_1") => new(Guid.NewGuid(), "default", "code-review", 1, callId);

    private async Task<ToolInvocation> CheckedOutAndFixed()
    {
        var run = NewRun();
        await Call("forge_checkout", new { number = 1 }, run);
        await File.WriteAllTextAsync(Path.Combine(_folder.File("workspaces"), run.RunId.ToString("D"), "pr-1", "pricing.py"), CodeReviewScenario.Fixed);
        return run;
    }

    private static object Fix(string[]? files = null, string? patch = null, int line = 26) => files is not null
        ? new { number = 1, explanation = "Use total.", files, comments = new[] { new { path = "pricing.py", line, body = "undefined name 'totl'" } } }
        : new { number = 1, explanation = "Use total.", patch, comments = new[] { new { path = "pricing.py", line, body = "undefined name 'totl'" } } };

    [Test]
    public async Task Should_open_one_fix_when_the_same_call_is_delivered_twice()
    {
        var run = await CheckedOutAndFixed();

        var first = await Call("forge_open_fix", Fix(["pricing.py"]), run);
        var again = await Call("forge_open_fix", Fix(["pricing.py"]), run);

        Assert.That(first, Does.StartWith("Opened pull request #2 from fix/pr-1 (commit "));
        Assert.That(again, Is.EqualTo(first));
        Assert.That(await CodeReviewScenario.GitAsync(Repository, "rev-list", "--count", "feature/bulk-discount..fix/pr-1"), Is.EqualTo("1\n"));
        Assert.That(await CodeReviewScenario.Rows(Forge, "SELECT count(*) FROM reviews"), Is.EqualTo(new[] { "1" }));
        Assert.That(await CodeReviewScenario.Rows(Forge, "SELECT count(*) FROM review_comments"), Is.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task Should_refuse_an_inline_comment_past_the_last_line_and_open_nothing()
    {
        var run = await CheckedOutAndFixed();

        var refused = Assert.ThrowsAsync<ToolException>(() => Call("forge_open_fix", Fix(["pricing.py"], line: 99), run))!;

        Assert.That((refused.Kind, refused.Message), Is.EqualTo((ToolErrorKind.InvalidArguments, "The inline comment on pricing.py:99 is past its last line (27).")));
        Assert.That(await CodeReviewScenario.GitAsync(Repository, "branch", "--list", "fix/*"), Is.Empty);
        Assert.That(await CodeReviewScenario.Rows(Forge, "SELECT count(*) FROM reviews"), Is.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task Should_refuse_a_fix_that_changes_nothing()
    {
        var run = NewRun();
        await Call("forge_checkout", new { number = 1 }, run);

        var refused = Assert.ThrowsAsync<ToolException>(() => Call("forge_open_fix", Fix(["pricing.py"]), run))!;

        Assert.That(refused.Message, Does.StartWith("The files are the same as pull request #1's head: there is no fix to open."));
        Assert.That(await CodeReviewScenario.GitAsync(Repository, "branch", "--list", "fix/*"), Is.Empty);
    }

    [Test]
    public async Task Should_open_a_fix_given_as_a_unified_diff()
    {
        var checkout = await CheckedOutAndFixed();
        var patch = await DiffAsync(Path.Combine(_folder.File("workspaces"), checkout.RunId.ToString("D"), "pr-1"));

        var opened = await Call("forge_open_fix", Fix(patch: patch), NewRun());

        Assert.That(opened, Does.StartWith("Opened pull request #2 from fix/pr-1"));
        Assert.That(await CodeReviewScenario.GitAsync(Repository, "show", "fix/pr-1:pricing.py"), Is.EqualTo(CodeReviewScenario.Fixed));
        var broken = Assert.ThrowsAsync<ToolException>(() => Call("forge_open_fix", Fix(patch: patch.Replace("totl", "total_", StringComparison.Ordinal)), NewRun("call_2_1")))!;
        Assert.That(broken.Message, Does.StartWith("The patch does not apply to fix/pr-1, which holds an earlier fix:"));
    }

    private static async Task<string> DiffAsync(string checkout)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = checkout, RedirectStandardOutput = true, ArgumentList = { "diff" } };
        using var git = Process.Start(start)!;
        var diff = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        return diff;
    }
}
