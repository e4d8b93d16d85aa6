using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace Agentry.Tests.Llm;

/// A local OpenAI-compatible chat-completions server (WireMock.Net) on a free loopback port, so tests
/// drive the real Semantic Kernel OpenAI connector over real HTTP. Each test scripts the replies in
/// order (answer, tool calls, 429, 500, delay, malformed body); when the script runs out, the
/// <see cref="WhenEmpty"/> responder answers (by default a final answer "done").
public sealed class OpenAiFake : IDisposable
{
    private readonly WireMockServer _server;
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _sequence;

    private OpenAiFake()
    {
        _server = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = ["http://127.0.0.1:0"],
            StartAdminInterface = false,
            // The fake keeps its own request log (bodies in arrival order); WireMock's log is not needed.
            MaxRequestLogCount = 0,
        });
        // Azure OpenAI puts the deployment in the path: /openai/deployments/NAME/chat/completions?api-version=...
        foreach (var path in new[] { "/v1/chat/completions", "/chat/completions", "/openai/deployments/*/chat/completions" })
        {
            _server.Given(Request.Create().WithPath(path).UsingPost())
                .RespondWith(Response.Create().WithCallback(Handle));
        }

        foreach (var path in new[] { "/v1/embeddings", "/embeddings" })
        {
            _server.Given(Request.Create().WithPath(path).UsingPost())
                .RespondWith(Response.Create().WithCallback(HandleEmbeddings));
        }
    }

    /// The vector the fake returns for a text (embeddings requests). Default: a deterministic
    /// 8-dimensional vector from the text's letters, so that equal texts get equal vectors.
    public Func<string, float[]> Embed { get; set; } = text =>
    {
        var vector = new float[8];
        foreach (var c in text.ToLowerInvariant().Where(char.IsLetter))
        {
            vector[c % 8] += 1;
        }

        return vector;
    };

    /// Every embeddings request received, in arrival order.
    public IReadOnlyList<FakeRequest> EmbeddingRequests => _embeddingRequests.ToArray();

    private readonly ConcurrentQueue<FakeRequest> _embeddingRequests = new();

    // OpenAI's embeddings response; the .NET client asks for base64 (little-endian float32), others for numbers.
    private IResponseMessage HandleEmbeddings(IRequestMessage request)
    {
        var body = request.Body ?? (request.BodyAsBytes is { } bytes ? Encoding.UTF8.GetString(bytes) : "");
        var received = new FakeRequest(request.Path, body, new Dictionary<string, string>()) { ReceivedAt = DateTimeOffset.UtcNow };
        _embeddingRequests.Enqueue(received);
        var input = received.Json.GetProperty("input");
        var texts = input.ValueKind == JsonValueKind.Array ? input.EnumerateArray().Select(t => t.GetString()!).ToList() : [input.GetString()!];
        var base64 = received.Json.TryGetProperty("encoding_format", out var format) && format.GetString() == "base64";
        var data = new JsonArray(texts.Select((text, i) =>
        {
            var vector = Embed(text);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray(vector.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
            return (JsonNode)new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding };
        }).ToArray());
        var tokens = texts.Sum(t => Math.Max(1, t.Length / 4));
        var response = new ResponseMessage
        {
            StatusCode = 200,
            BodyData = new BodyData
            {
                BodyAsString = new JsonObject
                {
                    ["object"] = "list",
                    ["data"] = data,
                    ["model"] = received.Model ?? "fake-embedding",
                    ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
                }.ToJsonString(),
                DetectedBodyType = BodyType.String,
                Encoding = Encoding.UTF8,
            },
        };
        response.AddHeader("Content-Type", "application/json");
        return response;
    }

    public static OpenAiFake Start() => new();

    /// The server root, e.g. http://127.0.0.1:51234.
    public Uri Root => new(_server.Url!);

    /// The base URL an OpenAI client is given: the root plus /v1.
    public Uri BaseUrl => new(_server.Url! + "/v1");

    /// Answers a request when nothing is scripted. Default: a final answer "done".
    public Func<FakeRequest, FakeReply> WhenEmpty { get; set; } = _ => FakeReply.Answer("done");

    /// Every chat-completions request received, in arrival order.
    public IReadOnlyList<FakeRequest> Requests => _requests.ToArray();

    public int RequestCount => _requests.Count;

    public OpenAiFake Enqueue(FakeReply reply)
    {
        _script.Enqueue(reply);
        return this;
    }

    public OpenAiFake ReplyWithAnswer(string text, int promptTokens = 10, int completionTokens = 5) =>
        Enqueue(FakeReply.Answer(text, promptTokens, completionTokens));

    public OpenAiFake ReplyWithToolCalls(params FakeToolCall[] calls) => Enqueue(FakeReply.ToolCalls(calls));

    public OpenAiFake ReplyWithRateLimit(TimeSpan retryAfter) => Enqueue(FakeReply.RateLimited(retryAfter));

    public OpenAiFake ReplyWithServerError(int status = 500) => Enqueue(FakeReply.Status(status));

    public OpenAiFake ReplyWithMalformedJson() => Enqueue(FakeReply.Malformed());

    /// Forgets the script and the request log.
    public void Reset()
    {
        _script.Clear();
        _requests.Clear();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _server.Stop();
        _server.Dispose();
        _stopping.Dispose();
    }

    private async Task<IResponseMessage> Handle(IRequestMessage request)
    {
        var body = request.Body ?? (request.BodyAsBytes is { } bytes ? Encoding.UTF8.GetString(bytes) : "");
        var headers = request.Headers?.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase)
            ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var received = new FakeRequest(request.Path, body, headers) { ReceivedAt = DateTimeOffset.UtcNow };
        _requests.Enqueue(received);

        var reply = _script.TryDequeue(out var scripted) ? scripted : WhenEmpty(received);
        if (reply.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Delay, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                // The fake is stopping; the client has long given up.
            }
        }

        var response = new ResponseMessage
        {
            StatusCode = reply.StatusCode,
            BodyData = new BodyData
            {
                BodyAsString = reply.Body ?? Completion(reply, received, Interlocked.Increment(ref _sequence)),
                DetectedBodyType = BodyType.String,
                Encoding = Encoding.UTF8,
            },
        };
        response.AddHeader("Content-Type", "application/json");
        foreach (var (name, value) in reply.Headers)
        {
            response.AddHeader(name, value);
        }

        return response;
    }

    // The chat.completion object as OpenAI returns it.
    private static string Completion(FakeReply reply, FakeRequest request, int sequence)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Content };
        if (reply.Calls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(reply.Calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            }).ToArray());
        }

        var completion = new JsonObject
        {
            ["id"] = $"chatcmpl-fake-{sequence}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = reply.Model ?? request.Model ?? "fake-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = reply.Calls.Count > 0 ? "tool_calls" : "stop",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = reply.PromptTokens,
                ["completion_tokens"] = reply.CompletionTokens,
                ["total_tokens"] = reply.PromptTokens + reply.CompletionTokens,
            },
        };
        return completion.ToJsonString();
    }
}

/// One scripted reply. A null Body means a well-formed chat.completion built from Content and Calls.
public sealed record FakeReply
{
    public int StatusCode { get; init; } = 200;
    public string? Content { get; init; }
    public IReadOnlyList<FakeToolCall> Calls { get; init; } = [];
    public int PromptTokens { get; init; } = 10;
    public int CompletionTokens { get; init; } = 5;

    /// The "model" field of the reply; by default the model the request asked for.
    public string? Model { get; init; }

    /// A raw body that replaces the chat.completion (error bodies, malformed JSON).
    public string? Body { get; init; }

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// How long the server waits before it answers (for timeouts and latency).
    public TimeSpan Delay { get; init; }

    public static FakeReply Answer(string text, int promptTokens = 10, int completionTokens = 5) =>
        new() { Content = text, PromptTokens = promptTokens, CompletionTokens = completionTokens };

    public static FakeReply ToolCalls(params FakeToolCall[] calls) => new() { Calls = calls };

    /// HTTP 429 with Retry-After in whole seconds (rounded up) and OpenAI's retry-after-ms.
    public static FakeReply RateLimited(TimeSpan retryAfter) => new()
    {
        StatusCode = 429,
        Body = ErrorBody("Rate limit reached for requests.", "rate_limit_exceeded"),
        Headers = new Dictionary<string, string>
        {
            ["Retry-After"] = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["retry-after-ms"] = ((long)retryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        },
    };

    public static FakeReply Status(int statusCode, string? message = null) => new()
    {
        StatusCode = statusCode,
        Body = ErrorBody(message ?? $"The server had an error while processing your request ({statusCode}).", "server_error"),
    };

    /// A 200 whose body is not JSON.
    public static FakeReply Malformed(string body = "{\"id\": \"chatcmpl-broken\", \"choices\": [") => new() { Body = body };

    public FakeReply After(TimeSpan delay) => this with { Delay = delay };

    private static string ErrorBody(string message, string code) =>
        new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = code, ["param"] = null, ["code"] = code } }.ToJsonString();
}

/// A tool call in a scripted reply; Arguments is the JSON text the model "wrote".
public sealed record FakeToolCall(string Id, string Name, string Arguments);

/// A request the fake received.
public sealed record FakeRequest(string Path, string Body, IReadOnlyDictionary<string, string> Headers)
{
    private JsonElement? _json;

    public DateTimeOffset ReceivedAt { get; init; }

    public JsonElement Json => _json ??= JsonDocument.Parse(Body).RootElement.Clone();

    /// The "model" the request asked for.
    public string? Model
    {
        get
        {
            try
            {
                return Json.TryGetProperty("model", out var m) ? m.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// The "messages" array of the request.
    public JsonElement Messages => Json.GetProperty("messages");

    /// The names of the tools offered, if any.
    public IReadOnlyList<string> ToolNames => Json.TryGetProperty("tools", out var tools)
        ? tools.EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString()!).ToList()
        : [];
}
