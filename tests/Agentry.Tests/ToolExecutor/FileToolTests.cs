using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_a_run_reads_and_writes_files
{
    private TempFolder _root = null!;
    private TempFolder _outside = null!;
    private ServiceProvider _services = null!;
    private ITool _read = null!;
    private ITool _write = null!;
    private ToolInvocation _run = null!;

    [SetUp]
    public void Build()
    {
        _root = new TempFolder();
        _outside = new TempFolder();
        _outside.Write("secret.txt", "the secret");
        _services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:Files:Root"] = _root.Path, ["Tools:Files:MaxWriteBytes"] = "100" });
        _read = _services.GetServices<ITool>().OfType<ReadFileTool>().Single();
        _write = _services.GetServices<ITool>().OfType<WriteFileTool>().Single();
        _run = new ToolInvocation(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");
    }

    [TearDown]
    public async Task Clean()
    {
        await _services.DisposeAsync();
        _root.Dispose();
        _outside.Dispose();
    }

    private Task<string> ReadAsync(string path, ToolInvocation? run = null) =>
        _read.InvokeAsync(JsonSerializer.SerializeToElement(new { path }), run ?? _run, CancellationToken.None);

    private Task<string> WriteAsync(string path, string content) =>
        _write.InvokeAsync(JsonSerializer.SerializeToElement(new { path, content }), _run, CancellationToken.None);

    private string Workspace => Path.Combine(_root.Path, _run.RunId.ToString("D"));

    [Test]
    public async Task Should_read_back_what_the_run_wrote_in_its_own_folder()
    {
        Assert.That(await WriteAsync("notes/today.txt", "hello"), Is.EqualTo("Wrote 5 bytes to notes/today.txt."));

        Assert.That(await ReadAsync("notes/today.txt"), Is.EqualTo("hello"));
        Assert.That(File.ReadAllText(Path.Combine(Workspace, "notes", "today.txt")), Is.EqualTo("hello"));
        var other = _run with { RunId = Guid.NewGuid() };
        Assert.That(Assert.ThrowsAsync<ToolException>(() => ReadAsync("notes/today.txt", other))!.Message, Is.EqualTo("There is no file 'notes/today.txt' in the run's workspace."));
    }

    [TestCase("../other-run/file.txt")]
    [TestCase("notes/../../escape.txt")]
    [TestCase("..")]
    public void Should_refuse_a_path_that_climbs_out(string path)
    {
        var read = Assert.ThrowsAsync<ToolException>(() => ReadAsync(path))!;
        var write = Assert.ThrowsAsync<ToolException>(() => WriteAsync(path, "x"))!;

        Assert.That(read.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(write.Message, Is.EqualTo($"'{path}' leads outside the run's workspace."));
        Assert.That(File.Exists(Path.Combine(_root.Path, "escape.txt")), Is.False);
    }

    [Test]
    public void Should_refuse_an_absolute_path()
    {
        var error = Assert.ThrowsAsync<ToolException>(() => ReadAsync(_outside.File("secret.txt")))!;

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Does.Contain("is not a relative path"));
    }

    [Test]
    public void Should_refuse_a_symbolic_link_that_leads_outside()
    {
        Directory.CreateDirectory(Workspace);
        File.CreateSymbolicLink(Path.Combine(Workspace, "link.txt"), _outside.File("secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Workspace, "dir"), _outside.Path);

        var file = Assert.ThrowsAsync<ToolException>(() => ReadAsync("link.txt"))!;
        var folder = Assert.ThrowsAsync<ToolException>(() => ReadAsync("dir/secret.txt"))!;
        var overwrite = Assert.ThrowsAsync<ToolException>(() => WriteAsync("dir/secret.txt", "replaced"))!;

        Assert.That(file.Message, Is.EqualTo("'link.txt' goes through a symbolic link that leads outside the run's workspace."));
        Assert.That(folder.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(overwrite.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(File.ReadAllText(_outside.File("secret.txt")), Is.EqualTo("the secret"));
    }

    [Test]
    public void Should_not_write_through_a_dangling_link_to_outside()
    {
        Directory.CreateDirectory(Workspace);
        File.CreateSymbolicLink(Path.Combine(Workspace, "later.txt"), _outside.File("created-later.txt"));

        var error = Assert.ThrowsAsync<ToolException>(() => WriteAsync("later.txt", "planted"))!;

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(File.Exists(_outside.File("created-later.txt")), Is.False);
    }

    [Test]
    public async Task Should_follow_a_symbolic_link_that_stays_inside()
    {
        await WriteAsync("real.txt", "inside");
        File.CreateSymbolicLink(Path.Combine(Workspace, "alias.txt"), Path.Combine(Workspace, "real.txt"));

        Assert.That(await ReadAsync("alias.txt"), Is.EqualTo("inside"));
    }

    [Test]
    public void Should_refuse_content_over_the_size_limit()
    {
        var error = Assert.ThrowsAsync<ToolException>(() => WriteAsync("big.txt", new string('a', 101)))!;

        Assert.That(error.Message, Is.EqualTo("The content is 101 bytes; a file may hold at most 100 (Tools:Files:MaxWriteBytes)."));
    }
}
