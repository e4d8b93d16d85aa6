using Agentry.Cli;

namespace Agentry.Tests.Cli;

/// `agentry kb ingest | search | list | delete` against the embedded SQLite file.
public sealed class When_the_knowledge_base_is_managed_from_the_cli
{
    private TempFolder _folder = null!;
    private Dictionary<string, string?> _settings = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = new TempFolder();
        _settings = new() { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString };
    }

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private static async Task<(int Exit, string Output, string Error)> Run(Func<TextWriter, TextWriter, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await command(output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private string Docs()
    {
        var root = Path.Combine(_folder.Path, "docs");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllText(Path.Combine(root, "refunds.md"), "# Refunds\n\nRefunds are paid within 14 days of the return.");
        File.WriteAllText(Path.Combine(root, "sub", "shipping.txt"), "Orders ship in 2 working days.");
        File.WriteAllText(Path.Combine(root, "logo.svg"), "<svg/>");
        return root;
    }

    [Test]
    public async Task Should_ingest_with_progress_and_a_summary_then_search_list_and_delete()
    {
        var root = Docs();

        var ingest = await Run((o, e) => KnowledgeCommands.IngestAsync("shop", [root], "default", o, e, CancellationToken.None, _settings));
        var search = await Run((o, e) => KnowledgeCommands.SearchAsync("shop", "when are refunds paid", 2, "default", o, e, CancellationToken.None, _settings));
        var list = await Run((o, e) => KnowledgeCommands.ListAsync("default", o, e, CancellationToken.None, _settings));
        var delete = await Run((o, e) => KnowledgeCommands.DeleteAsync("shop", "default", o, e, CancellationToken.None, _settings));
        var after = await Run((o, e) => KnowledgeCommands.ListAsync("default", o, e, CancellationToken.None, _settings));

        Assert.That(ingest.Exit, Is.EqualTo(ExitCodes.Completed), ingest.Output + ingest.Error);
        Assert.That(ingest.Output, Does.Contain("[1/2] refunds.md: 1 chunk").And.Contain("[2/2] sub/shipping.txt: 1 chunk"));
        Assert.That(ingest.Output, Does.Contain("skipped logo.svg: not markdown or text"));
        Assert.That(ingest.Output, Does.Match(@"Ingested 2 files, 2 chunks, [\d.]+ KB in [\d.]+ s \(\d+ chunks/s\); 1 skipped\."));
        Assert.That(search.Exit, Is.EqualTo(ExitCodes.Completed));
        Assert.That(search.Output, Does.StartWith("1. [refunds.md, passage 1] score ").And.Contain("   Refunds are paid within 14 days of the return."));
        Assert.That(list.Output, Does.Contain("shop  2 chunks  embedder agentry-hashed-ngrams-v1-384 (384 dimensions)"));
        Assert.That(delete.Output, Is.EqualTo("Deleted the collection 'shop' (2 chunks)." + Environment.NewLine));
        Assert.That(after.Output, Does.StartWith("No knowledge collections for tenant default"));
    }

    [Test]
    public async Task Should_exit_2_with_a_clear_error_for_a_missing_path()
    {
        var missing = Path.Combine(_folder.Path, "nope");

        var (exit, _, error) = await Run((o, e) => KnowledgeCommands.IngestAsync("shop", [missing], "default", o, e, CancellationToken.None, _settings));

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.StartWith($"No file or folder at '{missing}'"));
    }

    [Test]
    public async Task Should_exit_2_when_nothing_could_be_ingested_or_the_collection_is_unknown()
    {
        var root = Path.Combine(_folder.Path, "images");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "a.png"), "x");

        var ingest = await Run((o, e) => KnowledgeCommands.IngestAsync("shop", [root], "default", o, e, CancellationToken.None, _settings));
        var search = await Run((o, e) => KnowledgeCommands.SearchAsync("nothing", "x", 5, "default", o, e, CancellationToken.None, _settings));
        var delete = await Run((o, e) => KnowledgeCommands.DeleteAsync("nothing", "default", o, e, CancellationToken.None, _settings));

        Assert.That((ingest.Exit, search.Exit, delete.Exit), Is.EqualTo((ExitCodes.BadInput, ExitCodes.BadInput, ExitCodes.BadInput)));
        Assert.That(ingest.Error, Does.StartWith("Nothing was ingested"));
        Assert.That(search.Error, Does.StartWith("There is no knowledge collection named 'nothing'"));
        Assert.That(delete.Error, Does.StartWith("There is no knowledge collection named 'nothing'"));
    }
}
