using Agentry.Cli;
using Agentry.Memory;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Cli;

/// `agentry memory list|forget` on the embedded SQLite store.
public sealed class When_the_cli_manages_memories
{
    private static readonly DateTimeOffset At = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);
    private TempFolder _folder = null!;
    private SqliteMemoryDatabase _database = null!;
    private SqliteMemoryItemStore _items = null!;
    private SqliteTranscriptStore _transcripts = null!;
    private Dictionary<string, string?> _settings = null!;

    [SetUp]
    public void Open()
    {
        _folder = new TempFolder();
        _settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString };
        _database = new SqliteMemoryDatabase(Options.Create(new MemoryOptions { SqliteConnectionString = _folder.SqliteConnectionString }));
        _items = new SqliteMemoryItemStore(_database);
        _transcripts = new SqliteTranscriptStore(_database);
    }

    [TearDown]
    public void Close()
    {
        _folder.Dispose();
    }

    private async Task<MemoryItem> Keep(string user, string text, string tenant = "default", int minute = 0)
    {
        var item = new MemoryItem(Guid.NewGuid(), tenant, user, text, MemoryKind.Preference, null, At.AddMinutes(minute));
        await _items.AddItemAsync(item, CancellationToken.None);
        return item;
    }

    private async Task<(int Exit, string Output, string Error)> List(string user, string tenant = "default")
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await MemoryCommands.ListAsync(user, tenant, TestAgents.RepositoryAgentsFolder(), _settings, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<(int Exit, string Output, string Error)> Forget(string user, Guid? id, bool all)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await MemoryCommands.ForgetAsync(user, "default", id, all, TestAgents.RepositoryAgentsFolder(), _settings, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Test]
    public async Task Should_list_a_users_memories_with_their_ids()
    {
        var item = await Keep("ada", "Answers in French.");
        await Keep("ada", "Someone else's.", tenant: "acme");

        var (exit, output, _) = await List("ada");

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed));
        Assert.That(output, Is.EqualTo($"{item.Id}  preference  2026-11-26 05:00  Answers in French.{Environment.NewLine}"));
        Assert.That((await List("bob")).Output, Does.Contain("Nothing is remembered about user 'bob'"));
    }

    [Test]
    public async Task Should_forget_one_memory_then_all()
    {
        var one = await Keep("ada", "Answers in French.");
        await Keep("ada", "Uses metric units.", minute: 1);
        await Keep("ada", "Likes tea.", minute: 2);

        var forgotOne = await Forget("ada", one.Id, all: false);
        var missing = await Forget("ada", one.Id, all: false);
        var forgotAll = await Forget("ada", null, all: true);

        Assert.That(forgotOne, Is.EqualTo((ExitCodes.Completed, $"Forgot memory {one.Id} of user 'ada'.{Environment.NewLine}", "")));
        Assert.That(missing.Exit, Is.EqualTo(ExitCodes.NotCompleted));
        Assert.That(missing.Error, Does.Contain($"has no memory {one.Id}"));
        Assert.That(forgotAll.Output, Does.Contain("Forgot 2 memories of user 'ada'."));
        Assert.That(await _items.ListItemsAsync("default", "ada", CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task Should_ask_for_exactly_one_of_id_and_all()
    {
        var neither = await Forget("ada", null, all: false);
        var both = await Forget("ada", Guid.NewGuid(), all: true);

        Assert.That((neither.Exit, both.Exit), Is.EqualTo((ExitCodes.BadInput, ExitCodes.BadInput)));
        Assert.That(neither.Error, Does.Contain("--id ID for one memory").And.Contain("--all"));
    }

    [Test]
    public async Task Should_record_the_user_a_run_is_started_for_with_user()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Commands.RunAsync(
            new RunOptions("What is 6 * 7?", "assistant", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, Settings: _settings, User: "ada"),
            output, error, CancellationToken.None);

        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error.ToString());
        var runLine = output.ToString().Split('\n').First(l => l.StartsWith("Run: ", StringComparison.Ordinal));
        var run = await _transcripts.GetAsync(Guid.Parse(runLine["Run: ".Length..].Trim()), CancellationToken.None);
        Assert.That(run.UserId, Is.EqualTo("ada"));
        Assert.That(output.ToString(), Does.Contain("User: ada"));
    }

    [Test]
    public async Task Should_refuse_a_user_id_of_spaces_before_starting_anything()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Commands.RunAsync(
            new RunOptions("What is 6 * 7?", "assistant", TestAgents.RepositoryAgentsFolder(), null, Verbose: false, Settings: _settings, User: " "),
            output, error, CancellationToken.None);

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.ToString(), Does.StartWith("--user: The user id is empty"));
    }
}
