using Agentry.Cli;
using Agentry.Tests.Llm;

namespace Agentry.Tests.EndToEnd;

/// Every service in one process, as `agentry run` hosts them, with a scripted model that calls a
/// tool needing approval and allowed once per run (max_calls: 1): a call a person denied never ran,
/// so it leaves the one call allowed to the next.
public sealed class When_a_denied_call_has_a_call_limit
{
    private TempFolder _folder = null!;
    private OpenAiFake _fake = null!;

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _fake = OpenAiFake.Start();
        _folder.Write("counted.yaml", """
            description: Calculates, once a run, with a person's approval
            instructions: Use the calculator, then answer with the number.
            tools:
              - name: calculator
                needs_approval: true
                max_calls: 1
            limits:
              max_steps: 6
            """);
    }

    [TearDown]
    public void Stop()
    {
        _fake.Dispose();
        _folder.Dispose();
    }

    [Test]
    public async Task Should_leave_the_allowance_to_the_next_call_and_refuse_the_one_after()
    {
        _fake.ReplyWithToolCalls(new FakeToolCall("call_1", "calculator", """{"expression":"1 + 1"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_2", "calculator", """{"expression":"2 + 2"}"""))
            .ReplyWithToolCalls(new FakeToolCall("call_3", "calculator", """{"expression":"3 + 3"}"""))
            .ReplyWithAnswer("4");

        var (exit, output, error) = await AgentryRun.RunAsync(
            new RunOptions("What is 2 + 2?", "counted", _folder.Path, null, Verbose: false,
                new Dictionary<string, string?>
                {
                    ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
                    ["Llm:Endpoint"] = _fake.BaseUrl.ToString(),
                    ["Llm:Model"] = "gpt-fake",
                },
                Approvals: new ApprovalChoice(ApprovalMode.Ask, "alice", Input: new StringReader("n not that one\ny\ny\n"))));
        var all = output + error;

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), all);
        Assert.That(all, Does.Contain("calculator failed, PermissionDenied: Denied by alice: not that one"));
        Assert.That(all, Does.Contain("result   calculator -> 4 "), "the approved call after the denied one was refused: the denial used up max_calls");
        Assert.That(all, Does.Contain("calculator failed, PermissionDenied: Permission denied by the max_calls policy: agent 'counted' may call calculator at most 1 time(s) per run"),
            "the third call ran: the limit counted nothing");
        Assert.That(all, Does.Not.Contain("calculator -> 2 ").And.Not.Contain("calculator -> 6 "), "a call ran that should not have");
    }
}
