using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Payloads;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Hosting.Payloads;

/// The claim check itself (PayloadStore): which outputs go out of line, what stays inline, and how a
/// consumer reads one back.
public sealed class When_a_large_output_is_put_out_of_line
{
    private TempFolder _folder = null!;
    private PayloadStore _payloads = null!;

    [SetUp]
    public void Open()
    {
        _folder = new TempFolder();
        _payloads = new PayloadStore([new FilePayloadStore(_folder.File("payloads"))],
            Options.Create(new PayloadOptions { InlineBytes = 64 * 1024, PreviewChars = 100, ContextChars = 1000 }), new PayloadStoreChoice("file"));
    }

    [TearDown]
    public void Remove() => _folder.Dispose();

    private static ToolOutcome Outcome(string output) =>
        new("call_1", "read_file", JsonDocument.Parse("""{"path":"big.txt"}""").RootElement, output, ToolErrorKind.None, null, TimeSpan.FromMilliseconds(3));

    [Test]
    public async Task Should_leave_an_output_within_the_limit_inline()
    {
        var outcome = Outcome(new string('a', 64 * 1024));

        Assert.That(await _payloads.OutOfLineAsync(outcome, CancellationToken.None), Is.SameAs(outcome));
        Assert.That(Directory.Exists(_folder.File("payloads")), Is.False, "nothing was stored");
    }

    [Test]
    public async Task Should_keep_a_preview_and_a_reference_inline_and_the_whole_output_once_in_the_store()
    {
        var text = "BEGIN " + new string('é', 600_000) + " END";

        var first = await _payloads.OutOfLineAsync(Outcome(text), CancellationToken.None);
        var again = await _payloads.OutOfLineAsync(Outcome(text), CancellationToken.None);

        Assert.That(first.OutputRef, Is.Not.Null);
        Assert.That(first.OutputRef!.Size, Is.EqualTo(System.Text.Encoding.UTF8.GetByteCount(text)));
        Assert.That((first.OutputRef.Store, first.OutputRef.MediaType), Is.EqualTo(("file", PayloadStore.TextMediaType)));
        Assert.That(first.Output, Does.StartWith("BEGIN ").And.Contain($"stored out of line: 1,200,010 bytes as {first.OutputRef.Id}"));
        Assert.That(first.Output, Has.Length.LessThan(300));
        Assert.That(again.OutputRef, Is.EqualTo(first.OutputRef), "the same content has the same reference");
        Assert.That(Directory.GetFiles(_folder.File("payloads"), "*", SearchOption.AllDirectories), Has.Length.EqualTo(1), "stored once");

        var whole = await _payloads.ResolveAsync(first, null, CancellationToken.None);
        Assert.That(whole.Output, Is.EqualTo(text));
        var forContext = await _payloads.ResolveAsync(first, 1000, CancellationToken.None);
        Assert.That(forContext.Output, Does.StartWith("BEGIN " + new string('é', 994))
            .And.EndWith("[output shortened: the first 1,000 characters of 1,200,010 bytes are shown]"));
    }

    [Test]
    public async Task Should_say_so_when_the_store_no_longer_has_the_output()
    {
        var outcome = await _payloads.OutOfLineAsync(Outcome(new string('z', 100_000)), CancellationToken.None);
        Directory.Delete(_folder.File("payloads"), recursive: true);

        var resolved = await _payloads.ResolveAsync(outcome, null, CancellationToken.None);

        Assert.That(resolved.Output, Does.StartWith(new string('z', 100)).And.Contain($"the whole output is no longer kept: file has no {outcome.OutputRef!.Id}"));
    }

    [Test]
    public void Should_name_the_missing_connection_for_a_reference_to_a_store_it_cannot_read()
    {
        var outcome = Outcome("preview") with { OutputRef = new PayloadRef(PayloadIds.Of("x"u8), 1, PayloadStore.TextMediaType, "redis") };

        var error = Assert.ThrowsAsync<PayloadUnavailableException>(() => _payloads.ResolveAsync(outcome, null, CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("ConnectionStrings:redis"));
    }
}
