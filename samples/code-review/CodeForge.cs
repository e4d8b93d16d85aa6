using System.Globalization;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.CodeReview;

/// Where the code-review sample's forge keeps its repository and its database (Tools:Forge).
public sealed class CodeForgeOptions
{
    public const string Section = "Tools:Forge";

    public string Root { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "forge");
}

/// One pull request of the forge, as its table holds it.
public sealed record PullRequest(int Number, string Title, string Author, string Description, string Base, string Head, string State);

/// The sample forge, a stand-in for GitHub: one bare git repository (acme/pricing) and, in SQLite,
/// its pull requests and the reviews left on them with their inline comments. A new forge gets the
/// sample project and its open pull request #1 on first use; an existing one is used as it is.
public sealed class CodeForge(IOptions<CodeForgeOptions> options, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim _preparing = new(1, 1);
    private bool _prepared;

    public void Dispose() => _preparing.Dispose();

    public string RepositoryPath => Path.Combine(options.Value.Root, "repositories", "pricing.git");

    public string DatabasePath => Path.Combine(options.Value.Root, "forge.db");

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await PreparedAsync(cancellationToken);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, DefaultTimeout = 30, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public async Task<PullRequest> PullRequestAsync(int number, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT number, title, author, description, base, head, state FROM pull_requests WHERE number = $number";
        command.Parameters.AddWithValue("$number", number);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new PullRequest(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6))
            : throw new ToolException(ToolErrorKind.Failed, $"{SampleProject.Repository} has no pull request #{number}.", causedByCaller: true);
    }

    public async Task<string> GitAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        await PreparedAsync(cancellationToken);
        return await Git.RunAsync(options.Value.Root, ["--git-dir", RepositoryPath, .. arguments], cancellationToken);
    }

    /// A failed preparation (git missing, a full disk) is tried again by the next call.
    private async Task PreparedAsync(CancellationToken cancellationToken)
    {
        await _preparing.WaitAsync(cancellationToken);
        try
        {
            if (!_prepared)
            {
                await PrepareAsync(options.Value.Root, clock);
                _prepared = true;
            }
        }
        finally
        {
            _preparing.Release();
        }
    }

    private static async Task PrepareAsync(string root, TimeProvider clock)
    {
        Directory.CreateDirectory(root);
        var repository = Path.Combine(root, "repositories", "pricing.git");
        if (!Directory.Exists(repository))
        {
            await CreateRepositoryAsync(repository);
        }

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(root, "forge.db"), DefaultTimeout = 30, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS pull_requests (
              number INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, author TEXT NOT NULL, description TEXT NOT NULL,
              base TEXT NOT NULL, head TEXT NOT NULL UNIQUE, state TEXT NOT NULL, draft INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS reviews (
              id INTEGER PRIMARY KEY AUTOINCREMENT, pull_request INTEGER NOT NULL REFERENCES pull_requests(number),
              author TEXT NOT NULL, body TEXT NOT NULL, fix_pull_request INTEGER NOT NULL, fix_branch TEXT NOT NULL, fix_commit TEXT NOT NULL,
              run_id TEXT NOT NULL, call_id TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (run_id, call_id));
            CREATE TABLE IF NOT EXISTS review_comments (
              review_id INTEGER NOT NULL REFERENCES reviews(id), path TEXT NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL);
            INSERT OR IGNORE INTO pull_requests (number, title, author, description, base, head, state, created_at)
              VALUES (1, $title, $author, $description, $base, $head, 'open', $at);
            """;
        command.Parameters.AddWithValue("$title", SampleProject.Title);
        command.Parameters.AddWithValue("$author", SampleProject.Author);
        command.Parameters.AddWithValue("$description", SampleProject.Description);
        command.Parameters.AddWithValue("$base", SampleProject.Base);
        command.Parameters.AddWithValue("$head", SampleProject.Head);
        command.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync();
    }

    /// Built aside and moved into place, so that a forge is never seen half made, even by another
    /// process preparing the same one.
    private static async Task CreateRepositoryAsync(string repository)
    {
        var work = Path.Combine(Path.GetTempPath(), $"agentry-forge-{Guid.NewGuid():N}");
        var bare = repository + $".{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(work);
            var author = Git.As(SampleProject.Author, "alice@acme.example");
            await Git.RunAsync(work, ["init", "--quiet", "--initial-branch", SampleProject.Base], CancellationToken.None);
            await CommitAsync(work, author, SampleProject.MainFiles, "Order totals exact to the cent");
            await Git.RunAsync(work, ["checkout", "--quiet", "-b", SampleProject.Head], CancellationToken.None);
            await CommitAsync(work, author, SampleProject.PullRequestFiles, "Add a bulk discount for orders of 10 items or more");
            await Git.RunAsync(work, ["checkout", "--quiet", SampleProject.Base], CancellationToken.None);
            Directory.CreateDirectory(Path.GetDirectoryName(repository)!);
            await Git.RunAsync(work, ["clone", "--quiet", "--bare", work, bare], CancellationToken.None);
            try
            {
                Directory.Move(bare, repository);
            }
            catch (IOException) when (Directory.Exists(repository))
            {
                Directory.Delete(bare, recursive: true);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task CommitAsync(string work, string[] author, IReadOnlyDictionary<string, string> files, string message)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }

        await Git.RunAsync(work, ["add", "--all"], CancellationToken.None);
        await Git.RunAsync(work, [.. author, "commit", "--quiet", "-m", message], CancellationToken.None);
    }
}
