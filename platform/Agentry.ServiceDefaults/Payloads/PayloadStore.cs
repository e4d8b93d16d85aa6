using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Agentry.Contracts;
using Microsoft.Extensions.Options;

namespace Agentry.ServiceDefaults.Payloads;

/// The claim check (docs/durability.md): what every service uses to put a large payload out of line
/// and to read one back when it needs the content. New payloads go to the configured store; a
/// reference is read from the store it names.
public sealed class PayloadStore(IEnumerable<IPayloadStore> stores, IOptions<PayloadOptions> options, PayloadStoreChoice choice)
{
    public const string TextMediaType = "text/plain; charset=utf-8";
    public const string JsonMediaType = "application/json";

    public const string MeterName = "Agentry.Payloads";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Written = Meter.CreateCounter<long>("agentry.payloads.written", "By", "Bytes of payloads written out of line (content already stored is not counted).");

    private readonly Dictionary<string, IPayloadStore> _stores = stores.ToDictionary(s => s.Name, StringComparer.Ordinal);

    public PayloadOptions Options => options.Value;

    /// Where new payloads are written.
    public string WriteStore => choice.Name;

    /// True when text of this many characters may be over the inline limit (UTF-8 counts it exactly).
    public bool IsLarge(string text) => text.Length > Options.InlineBytes / 4 && Encoding.UTF8.GetByteCount(text) > Options.InlineBytes;

    /// Stores the content once (by its hash) and returns its reference.
    public async Task<PayloadRef> PutAsync(ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken)
    {
        var id = PayloadIds.Of(content.Span);
        var store = StoreNamed(choice.Name);
        if (await store.PutAsync(id, content, mediaType, cancellationToken))
        {
            Written.Add(content.Length, new KeyValuePair<string, object?>("store", store.Name));
        }

        return new PayloadRef(id, content.Length, mediaType, store.Name);
    }

    /// The outcome as it travels: unchanged when its output is small, else the output stored out of line,
    /// a preview and a note inline, and OutputRef set.
    public async Task<ToolOutcome> OutOfLineAsync(ToolOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome.OutputRef is not null || !IsLarge(outcome.Output))
        {
            return outcome;
        }

        var reference = await PutAsync(Encoding.UTF8.GetBytes(outcome.Output), TextMediaType, cancellationToken);
        return outcome with { Output = Preview(outcome.Output, reference), OutputRef = reference };
    }

    /// The text a reference stands for, or its first maxChars characters; null when its store no longer has it.
    public async Task<string?> ReadTextAsync(PayloadRef reference, int? maxChars, CancellationToken cancellationToken)
    {
        // UTF-8 takes at most 4 bytes a character: enough bytes for maxChars, cut after decoding.
        var maxBytes = maxChars is { } max && (long)max * 4 < reference.Size ? max * 4 : (int?)null;
        var bytes = await StoreNamed(reference.Store).GetAsync(reference.Id, maxBytes, cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(bytes);
        return maxChars is { } limit && text.Length > limit ? text[..limit] : text;
    }

    /// The outcome with its whole output (or its first maxChars characters, with a note) in Output: what a
    /// consumer that needs the content reads. A payload its store no longer has leaves the preview, with a note.
    public async Task<ToolOutcome> ResolveAsync(ToolOutcome outcome, int? maxChars, CancellationToken cancellationToken)
    {
        if (outcome.OutputRef is not { } reference)
        {
            return outcome;
        }

        var text = await ReadTextAsync(reference, maxChars, cancellationToken);
        if (text is null)
        {
            return outcome with { Output = $"{outcome.Output}{Environment.NewLine}[the whole output is no longer kept: {reference.Store} has no {reference.Id}]" };
        }

        var shown = maxChars is { } max && reference.Size > max
            ? string.Create(CultureInfo.InvariantCulture, $"{text}{Environment.NewLine}[output shortened: the first {text.Length:N0} characters of {reference.Size:N0} bytes are shown]")
            : text;
        return outcome with { Output = shown };
    }

    /// Every outcome of the step resolved (ResolveAsync).
    public async Task<IReadOnlyList<ToolOutcome>> ResolveAsync(IReadOnlyList<ToolOutcome> outcomes, int? maxChars, CancellationToken cancellationToken)
    {
        if (outcomes.All(o => o.OutputRef is null))
        {
            return outcomes;
        }

        var resolved = new List<ToolOutcome>(outcomes.Count);
        foreach (var outcome in outcomes)
        {
            resolved.Add(await ResolveAsync(outcome, maxChars, cancellationToken));
        }

        return resolved;
    }

    private string Preview(string text, PayloadRef reference)
    {
        var shown = text[..Math.Min(text.Length, Options.PreviewChars)];
        return string.Create(CultureInfo.InvariantCulture,
            $"{shown}{Environment.NewLine}[output stored out of line: {reference.Size:N0} bytes as {reference.Id} in {reference.Store}; the first {shown.Length} characters are shown here]");
    }

    private IPayloadStore StoreNamed(string name) =>
        _stores.TryGetValue(name, out var store) ? store
        : throw new PayloadUnavailableException(name switch
        {
            "redis" => "A payload is kept in Redis, but this process has no ConnectionStrings:redis: give every service the same connection strings.",
            "mongodb" => "A payload is kept in MongoDB, but this process has no ConnectionStrings:mongodb: give every service that reads payloads the same connection strings.",
            _ => $"A payload names the store '{name}', which this process does not know (file, redis or mongodb).",
        });
}

/// Which store new payloads go to (PayloadOptions.Store, else by connection strings).
public sealed record PayloadStoreChoice(string Name);
