using Agentry.Cli;

namespace Agentry.Tests.Tools.Sandbox;

/// `agentry run --agent coder` with the offline model: the goal quotes a program, the model calls
/// run_python, and the sandbox's result is the answer.
public sealed class When_an_embedded_run_asks_for_python
{
    [Test]
    public async Task Should_run_the_program_in_the_sandbox_and_answer_with_its_output()
    {
        using var folder = new TempFolder();
        var (exit, output, error) = await AgentryRun.RunAsync(new RunOptions("Run this Python: `print(sum(range(1, 101)))`", "coder", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
            new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString, ["Tools:Files:Root"] = folder.File("workspaces") }));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain("""call     run_python {"code":"print(sum(range(1, 101)))"}"""));
        Assert.That(output, Does.Contain("exit 0").And.Contain("5050"));
        Assert.That(output, Does.Not.Contain(folder.File("workspaces")), "the result never names the host path of the workspace");
    }
}
