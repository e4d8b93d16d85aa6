using System.Net.Http.Json;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;

namespace Agentry.Tests.Cli;

/// `agentry runs fork` and `agentry runs replay` against `agentry serve`, on the offline model (the
/// repository's assistant agent), and `agentry show` naming the runs' lineage both ways.
public sealed class When_a_run_is_forked_or_replayed_from_the_cli : AgentryServerFixture
{
    [Test]
    public async Task Should_replay_without_a_difference_fork_with_guidance_and_show_both_ways()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is (2 + 3) * 4?" });
        var parent = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        var recorded = await Eventually.RunAsync(Http, parent, r => r.Status == RunStatus.Completed, "the parent's end");
        var gateway = new GatewayTarget(LocalHttpServer.BaseAddressOf(App).ToString(), await CreateKeyAsync("default", [GatewayRoles.Submit, GatewayRoles.Read]));

        var (replayExit, replayOutput) = await CliAsync((output, error) =>
            LineageCommands.ReplayAsync(gateway, parent.ToString(), null, TimeSpan.FromSeconds(60), output, error, CancellationToken.None));
        var (forkExit, forkOutput) = await CliAsync((output, error) =>
            LineageCommands.ForkAsync(gateway, parent.ToString(), 1, null, null, "Say the result in words.", output, error, CancellationToken.None));
        var (outOfRange, outOfRangeError) = await CliAsync((output, error) =>
            LineageCommands.ForkAsync(gateway, parent.ToString(), 9, null, null, null, output, error, CancellationToken.None));

        Assert.That(replayExit, Is.EqualTo(ExitCodes.Completed), replayOutput);
        Assert.That(replayOutput, Does.Contain($"0 of {recorded.Steps.Count} decided step(s) differ from run {parent}"));
        Assert.That(forkExit, Is.EqualTo(ExitCodes.Completed), forkOutput);
        var fork = Guid.Parse(forkOutput.Split("agentry show ")[1].Trim());
        var forked = await Eventually.RunAsync(Http, fork, r => r.Status is not (RunStatus.Running or null), "the fork's end");
        Assert.That(forked.Steps[0].ToolCalls.Select(c => c.Tool), Is.EqualTo(recorded.Steps[0].ToolCalls.Select(c => c.Tool)), "the parent's step 1, copied");
        Assert.That(outOfRange, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(outOfRangeError, Does.Contain($"Step 9 is out of range: run {parent} has {recorded.Steps.Count} recorded step(s)"));

        var (_, showFork) = await CliAsync((output, error) => RunCommands.ShowAsync(gateway, fork.ToString(), output, error, CancellationToken.None));
        var (_, showParent) = await CliAsync((output, error) => RunCommands.ShowAsync(gateway, parent.ToString(), output, error, CancellationToken.None));
        Assert.That(showFork, Does.Contain($"lineage: fork of run {parent} at step 1, guidance from "));
        Assert.That(showFork, Does.Contain(": Say the result in words."));
        Assert.That(showParent, Does.Contain($"forked: run {fork} at step 1"));
        Assert.That(showParent, Does.Contain("replayed: run "));

        // Both can become evaluation cases; the note names the run they came from.
        var replay = Guid.Parse(showParent.Split("replayed: run ")[1][..36]);
        var dataset = Path.Combine(Folder.Path, "lineage.yaml");
        await File.WriteAllTextAsync(dataset, "agent: assistant\ncases:\n  - id: seed\n    goal: What is 1 + 1?\n");
        var (addFork, addForkOutput) = await CliAsync((output, error) =>
            Agentry.Cli.Eval.EvalCommands.AddRunAsync(fork.ToString(), dataset, "forked", gateway, null, null, output, error, CancellationToken.None));
        var (addReplay, addReplayOutput) = await CliAsync((output, error) =>
            Agentry.Cli.Eval.EvalCommands.AddRunAsync(replay.ToString(), dataset, "replayed", gateway, null, null, output, error, CancellationToken.None));
        Assert.That((addFork, addReplay), Is.EqualTo((ExitCodes.Completed, ExitCodes.Completed)), addForkOutput + addReplayOutput);
        var text = await File.ReadAllTextAsync(dataset);
        Assert.That(text, Does.Contain($"# Added from run {fork} (completed), a fork of run {parent} at step 1 with a person's guidance, by `agentry eval add-run`"));
        Assert.That(text, Does.Contain($"# Added from run {replay} (completed), a replay of run {parent}, by `agentry eval add-run`"));
        var cases = Agentry.Evaluation.Datasets.DatasetLoader.LoadFile(dataset).Cases;
        Assert.That(cases.Single(c => c.Id == "replayed").Expect.Called.Select(t => t.Tool), Is.EqualTo(new[] { "calculator" }), "the tool the replay decided to call, though it ran none");
        Assert.That(cases.Single(c => c.Id == "forked").Goal, Is.EqualTo("What is (2 + 3) * 4?"));
    }

    private static async Task<(int Exit, string Output)> CliAsync(Func<TextWriter, TextWriter, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await command(output, error);
        return (exit, output.ToString() + error);
    }
}
