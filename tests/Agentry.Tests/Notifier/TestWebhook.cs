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
    private readonly ConcurrentQueue<string?> _keys = new();
    private readonly ConcurrentQueue<int> _nextStatuses = new();
    private SemaphoreSlim _posted = new(0);
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

    /// The Idempotency-Key header of every post since the last reset, in the order received.
    public IReadOnlyList<string?> IdempotencyKeys => [.. _keys];

    /// The first body posted since the last reset, once it has been.
    public Task<JsonElement> First => _first.Task;

    public static async Task<TestWebhook> StartAsync()
    {
        var webhook = new TestWebhook();
        var (server, baseAddress) = await LocalHttpServer.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
            webhook._keys.Enqueue(request.Headers["Idempotency-Key"].FirstOrDefault());
            webhook._received.Enqueue(body);
            webhook._first.TrySetResult(body);
            webhook._posted.Release();
            return Results.StatusCode(webhook._nextStatuses.TryDequeue(out var once) ? once : webhook.Status);
        }));
        webhook._server = server;
        webhook.Url = new Uri(baseAddress, "/hook");
        return webhook;
    }

    /// The next post is answered with this status, the ones after it as before.
    public void AnswerNextWith(int status) => _nextStatuses.Enqueue(status);

    /// Waits until this many more posts have arrived.
    public async Task WaitForPostsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.That(await _posted.WaitAsync(TimeSpan.FromSeconds(20)), Is.True, $"the webhook did not receive {count} post(s) within 20 s");
        }
    }

    public void Reset()
    {
        _received.Clear();
        _keys.Clear();
        _nextStatuses.Clear();
        _posted = new SemaphoreSlim(0);
        _first = NewFirst();
        Status = StatusCodes.Status204NoContent;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static TaskCompletionSource<JsonElement> NewFirst() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
