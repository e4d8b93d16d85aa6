using Agentry.Cli;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// Sub-agents and tool policies with every service in this process, as `agentry run` does it, on
/// the offline model: the shipped orchestrator hands two tasks to the assistant in parallel, and
/// a refused call is kept in the transcript as PermissionDenied.
public sealed class When_an_orchestrator_runs_sub_agents
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private async Task<(int ExitCode, string Output)> Run(string goal, string agent, string agentsPath)
    {
        var (exit, output, error) = await AgentryRun.RunAsync(
            new RunOptions(goal, agent, agentsPath, null, Verbose: false, new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString }));
        return (exit, output + error);
    }

    [Test]
    public async Task Should_run_two_sub_agents_in_parallel_and_answer_from_their_answers()
    {
        var (exit, output) = await Run("Calculate 17 * 23 + 4; tell the time in Tokyo", "orchestrator", TestAgents.RepositoryAgentsFolder());

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("""call     agent:assistant {"goal":"Calculate 17 * 23 + 4"}"""));
        Assert.That(output, Does.Contain("""call     agent:assistant {"goal":"tell the time in Tokyo"}"""));
        Assert.That(output, Does.Contain("result   agent:assistant -> 395"));
        Assert.That(output, Does.Contain("Answer: agent:assistant: 395"));

        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        var runs = await SqliteRows.Query(db, "SELECT agent || '|' || status FROM runs ORDER BY agent");
        Assert.That(runs, Is.EqualTo(new[] { "assistant|Completed", "assistant|Completed", "orchestrator|Completed" }), "each sub-agent call is a run of its own");
        var outcomes = await SqliteRows.Query(db, """
            SELECT o.call_id || '|' || o.tool || '|' || o.error_kind FROM outcomes o JOIN runs r ON r.run_id = o.run_id
            WHERE r.agent = 'orchestrator' ORDER BY o.call_id
            """);
        Assert.That(outcomes, Is.EqualTo(new[] { "call_1_1|agent:assistant|None", "call_1_2|agent:assistant|None" }), "one step with both calls, answered by the children");
        var parentAnswer = await SqliteRows.Query(db, "SELECT o.output FROM outcomes o JOIN runs r ON r.run_id = o.run_id WHERE r.agent = 'orchestrator' AND o.call_id = 'call_1_1'");
        Assert.That(parentAnswer, Is.EqualTo(new[] { "395" }), "the parent's ToolResult carries the child's answer");
    }

    [Test]
    public async Task Should_keep_a_refused_call_in_the_transcript_as_permission_denied()
    {
        _folder.Write("fetcher.yaml", """
            description: Reads one API only.
            instructions: Fetch what you are asked to.
            tools:
              - name: http_get
                allowed_hosts: [api.example.com]
            """);

        var (exit, output) = await Run("Fetch https://evil.example.org/secrets", "fetcher", _folder.Path);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("result   http_get failed, PermissionDenied: Permission denied by the allowed_hosts policy"));
        await using var db = new SqliteConnection(_folder.SqliteConnectionString);
        await db.OpenAsync();
        var outcomes = await SqliteRows.Query(db, "SELECT tool || '|' || error_kind || '|' || error FROM outcomes");
        Assert.That(outcomes, Is.EqualTo(new[]
        {
            "http_get|PermissionDenied|Permission denied by the allowed_hosts policy: agent 'fetcher' may reach only api.example.com with http_get, and 'evil.example.org' is not one of them.",
        }));
    }
}
