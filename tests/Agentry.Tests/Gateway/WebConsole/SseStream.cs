using System.Text.Json;
using System.Threading.Channels;

namespace Agentry.Tests.Gateway.WebConsole;

/// A Server-Sent Events stream read as the console reads it: a GET whose body stays open, with the
/// client's credential, parsed event by event. Lines are read in the background into a channel, so
/// that a wait that gives up loses no line.
public sealed class SseStream : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();

    private SseStream(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _ = Task.Run(async () =>
        {
            using var reader = new StreamReader(body);
            try
            {
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    _lines.Writer.TryWrite(line);
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
            finally
            {
                _lines.Writer.TryComplete();
            }
        });
    }

    public static async Task<SseStream> OpenAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.IsSuccessStatusCode, Is.True, $"GET {path}: {response.StatusCode}");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        return new SseStream(response, await response.Content.ReadAsStreamAsync());
    }

    public sealed record Event(string Type, JsonElement Data);

    /// The next event, within 30 s.
    public async Task<Event> NextAsync()
    {
        var (type, data) = ("message", "");
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (!await _lines.Reader.WaitToReadAsync(patience.Token))
            {
                throw new AssertionException("The event stream ended.");
            }

            var line = await _lines.Reader.ReadAsync(patience.Token);
            if (line.Length == 0 && data.Length > 0)
            {
                return new Event(type, JsonDocument.Parse(data).RootElement.Clone());
            }

            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data += line[5..].TrimStart();
            }
        }
    }

    public async Task<Event> NextUntilAsync(string type)
    {
        while (true)
        {
            var next = await NextAsync();
            if (next.Type == type)
            {
                return next;
            }
        }
    }

    /// True when no line arrives within the time: the stream had nothing for this reader.
    public async Task<bool> NothingWithinAsync(TimeSpan time)
    {
        using var patience = new CancellationTokenSource(time);
        try
        {
            return !await _lines.Reader.WaitToReadAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _response.Dispose();
        _stop.Dispose();
    }
}
