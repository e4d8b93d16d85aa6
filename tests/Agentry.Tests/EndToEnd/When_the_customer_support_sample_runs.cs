using Agentry.Cli;
using Microsoft.Data.Sqlite;

namespace Agentry.Tests.EndToEnd;

/// Issue 6's "done when": the shipped customer-support agent, on the offline model in the embedded
/// default, looks an order up on its own and refunds it only once a person at the CLI approves.
public sealed class When_the_customer_support_sample_runs
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private string Orders => $"Data Source={_folder.File("orders.db")};Pooling=False";

    private async Task<(int ExitCode, string Output)> Run(string goal, ApprovalChoice approvals)
    {
        var (exit, output, error) = await AgentryRun.RunAsync(
            new RunOptions(goal, "customer-support", TestAgents.RepositoryAgentsFolder(), null, Verbose: false,
                new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString, ["Tools:Orders:ConnectionString"] = Orders },
                Approvals: approvals));
        return (exit, output + error);
    }

    private async Task<string?> OrderStatus(string orderId)
    {
        await using var db = new SqliteConnection(Orders);
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT status FROM orders WHERE order_id = $id";
        command.Parameters.AddWithValue("$id", orderId);
        return (string?)await command.ExecuteScalarAsync();
    }

    [Test]
    public async Task Should_look_an_order_up_without_asking_anyone()
    {
        var (exit, output) = await Run("Look up order 1043 for me", new ApprovalChoice(ApprovalMode.Deny, "nobody", Input: new StringReader("")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("""call     lookup_order {"order_id":"1043"}"""));
        Assert.That(output, Does.Not.Contain("waits for approval"));
        Assert.That(output, Does.Contain("Answer: ").And.Contain("USB-C dock"));
    }

    [Test]
    public async Task Should_refund_once_the_person_at_the_terminal_approves()
    {
        var (exit, output) = await Run("Refund order 1042, the headphones arrived broken", new ApprovalChoice(ApprovalMode.Ask, "alice", Input: new StringReader("maybe\ny checked the photos\n")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("Step 1 waits for approval"));
        Assert.That(output, Does.Contain("""refund_order {"order_id":"1042","""));
        Assert.That(output, Does.Contain("Answer y or n"), "an unclear answer was taken as a decision");
        Assert.That(output, Does.Contain("approved by alice: checked the photos"));
        Assert.That(output, Does.Contain("result   refund_order -> Refunded 249.99 EUR for order 1042"));
        Assert.That(await OrderStatus("1042"), Is.EqualTo("refunded"));
    }

    [Test]
    public async Task Should_tell_the_model_who_denied_the_refund_and_why_and_leave_the_order_alone()
    {
        var (exit, output) = await Run("Refund order 1042, the headphones arrived broken", new ApprovalChoice(ApprovalMode.Ask, "alice", Input: new StringReader("n not for this customer\n")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("denied   by alice: not for this customer"));
        Assert.That(output, Does.Contain("refund_order failed, PermissionDenied: Denied by alice: not for this customer"));
        Assert.That(output, Does.Contain("Answer: I could not complete the goal: refund_order failed"));
        // The order desk creates its database on first use: no file, no tool of it ran.
        Assert.That(File.Exists(_folder.File("orders.db")), Is.False, "a tool of the order desk ran after the denial");
    }

    [Test]
    public async Task Should_decide_without_a_terminal_with_approve()
    {
        var (exit, output) = await Run("Refund order 1001, wrong layout", new ApprovalChoice(ApprovalMode.Approve, "ci", Input: new StringReader("")));

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output);
        Assert.That(output, Does.Contain("approved by ci: approved with --approve"));
        Assert.That(await OrderStatus("1001"), Is.EqualTo("refunded"));
    }
}
