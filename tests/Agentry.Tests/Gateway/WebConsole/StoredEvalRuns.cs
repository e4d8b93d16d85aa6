using System.Text.RegularExpressions;
using Agentry.Cli;
using Agentry.Cli.Eval;
using Agentry.Tests.Deploy;

namespace Agentry.Tests.Gateway.WebConsole;

/// Real eval runs in a server's SQLite file, as `agentry eval` makes them beside `agentry serve`:
/// the shipped assistant dataset through the embedded runtime on the offline model, once with the
/// shipped agents (every case passes), then with a copy of the assistant without its calculator
/// (the two arithmetic cases fail: a regression).
public static partial class StoredEvalRuns
{
    public const string Dataset = "assistant";
    public static string DatasetFile => RepositoryFiles.PathOf($"agents/evals/{Dataset}.yaml");

    public static async Task<(Guid Passing, Guid Regressed)> RunAsync(TempFolder folder)
    {
        var passing = await EvaluateAsync(folder, RepositoryFiles.PathOf("agents"), ExitCodes.Completed);
        var agents = Directory.CreateDirectory(folder.File("eval-agents")).FullName;
        foreach (var file in Directory.EnumerateFiles(RepositoryFiles.PathOf("agents"), "*.yaml"))
        {
            File.Copy(file, Path.Combine(agents, Path.GetFileName(file)), overwrite: true);
        }

        var assistant = Path.Combine(agents, "assistant.yaml");
        File.WriteAllText(assistant, File.ReadAllText(assistant).Replace("  - calculator\n", "", StringComparison.Ordinal));
        var regressed = await EvaluateAsync(folder, agents, ExitCodes.NotCompleted);
        return (passing, regressed);
    }

    private static async Task<Guid> EvaluateAsync(TempFolder folder, string agents, int expectedExit)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sqlite"] = folder.SqliteConnectionString,
            ["Tools:Orders:ConnectionString"] = $"Data Source={folder.File("orders.db")};Pooling=False",
        };
        var exit = await EvalCommands.EvaluateAsync(
            new EvalOptions(DatasetFile, AgentsPath: agents, Settings: settings), output, error, timeout.Token);
        Assert.That(exit, Is.EqualTo(expectedExit), $"{output}{error}");
        return Guid.Parse(Stored().Match(output.ToString()).Groups[1].Value);
    }

    [GeneratedRegex("Stored as ([0-9a-f-]{36})")]
    private static partial Regex Stored();
}
