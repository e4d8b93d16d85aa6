using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Agentry.Tests.Notifier;

/// An agent's webhook, played by the test: a local endpoint that keeps every JSON body posted to it
/// and answers with the status the test sets. Reset before each test, as one serves a whole fixture.
public sealed class TestWebhook : IAsyncDisposable
{
    private readonly ConcurrentQueue<JsonElement> _received = new();
    private TaskCompletionSource<JsonElement> _first = NewFirst();
    private WebApplication _server = null!;

    private TestWebhook()
    {
    }

    /// Where the Notifier posts: the webhook an agent definition names.
    public Uri Url { get; private set; } = null!;

    /// What the webhook answers: 204 No Content unless a test says otherwise.
    public int Status { get; set; } = StatusCodes.Status204NoContent;

    /// Every body posted since the last reset, in the order received.
    public IReadOnlyList<JsonElement> Received => [.. _received];

    /// The first body posted since the last reset, once it has been.
    public Task<JsonElement> First => _first.Task;

    public static async Task<TestWebhook> StartAsync()
    {
        var webhook = new TestWebhook();
        var (server, baseAddress) = await LocalHttpServer.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
            webhook._received.Enqueue(body);
            webhook._first.TrySetResult(body);
            return Results.StatusCode(webhook.Status);
        }));
        webhook._server = server;
        webhook.Url = new Uri(baseAddress, "/hook");
        return webhook;
    }

    public void Reset()
    {
        _received.Clear();
        _first = NewFirst();
        Status = StatusCodes.Status204NoContent;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static TaskCompletionSource<JsonElement> NewFirst() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
