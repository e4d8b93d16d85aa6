using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agentry.Contracts;
using Agentry.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using StackExchange.Redis;

namespace Agentry.Distributed.Tests;

/// The six services as processes, handling every kind of credential a deployment holds: an API key
/// (sent both ways the Gateway takes it), a JWT bearer token and the key that signs it, the model
/// provider's API key, the SMTP password of the email channel and the OTLP exporter's header; and
/// refused ones, since a failed check is where a credential is most often written down. Runs go
/// through with all of them, logging at Debug; then everything the deployment wrote is searched for
/// each secret: the OTLP exports (every byte of every signal), each process's output, the SQLite
/// file (its tables and its raw bytes), Redis, the messages on the bus, the emails and the Gateway's
/// answers. Each place must hold the runs (their ids), so that an empty place cannot pass.
[NonParallelizable]
public sealed class When_secrets_pass_through_a_deployment
{
    private const string Tenant = "secrets-test";
    private const string Issuer = "https://login.secrets-test.example";
    private const string Audience = "agentry-gateway";
    private const string Agent = "secret-probe";
    private const string SmtpUser = "agentry-notifier";
    private const string ProviderKeyVariable = "AGENTRY_TEST_PROVIDER_KEY";
    private const string SmtpPasswordVariable = "AGENTRY_TEST_SMTP_PASSWORD";

    private readonly Dictionary<string, string> _secrets = [];
    private readonly List<Guid> _runs = [];
    private readonly ConcurrentQueue<string> _gatewayAnswers = new();
    private string _folder = null!;
    private OtlpReceiver _receiver = null!;
    private FakeModel _model = null!;
    private SmtpListener _smtp = null!;
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private BusTap _bus = null!;

    [OneTimeSetUp]
    public async Task RunWithSecrets()
    {
        var started = Stopwatch.StartNew();
        _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-secrets", Guid.NewGuid().ToString("N"))).FullName;
        var agents = Directory.CreateDirectory(Path.Combine(_folder, "agents")).FullName;
        // An agent that calls a tool (so the ToolExecutor and the Evaluator see the run) and mails its end.
        await File.WriteAllTextAsync(Path.Combine(agents, Agent + ".yaml"), """
            description: Works out arithmetic with the calculator and mails the outcome.
            instructions: Use the calculator for arithmetic, then answer briefly.
            model:
              name: gpt-4o-mini
            tools:
              - calculator
            notify:
              email: ops@secrets-test.example
            limits:
              max_steps: 4
            """);

        // Hex and '-' only, so that no store escapes them: a JSON string keeps them as they are.
        var signingKey = Encoding.ASCII.GetBytes($"jwt-signing-key-{Guid.NewGuid():N}");
        _secrets["model provider API key"] = $"sk-provider-{Guid.NewGuid():N}";
        _secrets["SMTP password"] = $"smtp-password-{Guid.NewGuid():N}";
        _secrets["OTLP exporter token"] = $"otlp-token-{Guid.NewGuid():N}";
        _secrets["JWT signing key (as configured)"] = Convert.ToBase64String(signingKey);
        _secrets["JWT signing key (decoded)"] = Encoding.ASCII.GetString(signingKey);

        _receiver = await OtlpReceiver.StartAsync();
        _model = await FakeModel.StartAsync();
        _smtp = await SmtpListener.StartAsync();
        var environment = new Dictionary<string, string>(_receiver.Environment)
        {
            // Metrics are exported too, soon enough to be searched.
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = $"Authorization=Bearer {_secrets["OTLP exporter token"]}",
            ["Agents__Path"] = agents,
            // Everything that would be written at Debug is written, so that there is something to leak.
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__Console__IncludeScopes"] = "true",
            ["Llm__Providers__fake__Kind"] = "openai-compatible",
            ["Llm__Providers__fake__Endpoint"] = _model.BaseUrl.ToString(),
            ["Llm__Providers__fake__ApiKeyEnv"] = ProviderKeyVariable,
            [ProviderKeyVariable] = _secrets["model provider API key"],
            ["Gateway__Jwt__Issuer"] = Issuer,
            ["Gateway__Jwt__Audience"] = Audience,
            ["Gateway__Jwt__SigningKeys__0"] = "base64:" + _secrets["JWT signing key (as configured)"],
            // The emails link to the run, which shows that they are the runs' emails.
            ["Gateway__PublicUrl"] = "https://agentry.secrets-test.example",
            ["Notifier__Smtp__Host"] = "127.0.0.1",
            ["Notifier__Smtp__Port"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifier__Smtp__From"] = "Agentry <agentry@secrets-test.example>",
            ["Notifier__Smtp__UserName"] = SmtpUser,
            ["Notifier__Smtp__PasswordEnv"] = SmtpPasswordVariable,
            ["Notifier__Smtp__StartTls"] = "false",
            [SmtpPasswordVariable] = _secrets["SMTP password"],
        };
        _deployment = await Deployment.StartAsync(environment);
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _bus = await BusTap.StartAsync(_deployment.AmqpUrl);

        using var gateway = new HttpClient { BaseAddress = _deployment.Get("Gateway").BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var token = Token(signingKey, subject: "alice");
        _secrets["bearer token"] = token;
        _secrets["bearer token signature"] = token[(token.LastIndexOf('.') + 1)..];

        // The key is issued by the Gateway itself, to the token's holder, as an admin would.
        using var issue = Request(HttpMethod.Post, "/keys", bearer: token, body: new { name = "secrets-test-submitter", roles = "submit,read" });
        // Its answer is the one place a key's secret belongs, once: it is not searched.
        var created = await SendAsync(gateway, issue, HttpStatusCode.Created, keep: false);
        var key = created.GetProperty("key").GetString()!;
        _secrets["API key"] = key;
        _secrets["API key secret"] = SecretOf(key);

        // Goals of this fixture's own: the model response cache is in the Redis that test runs share,
        // and a goal answered from it would send the provider no request, and no key.
        var nonce = Guid.NewGuid().ToString("N")[..8];
        Guid[] runs =
        [
            await StartRunAsync(gateway, $"What is 17 * 23 + 4? (key as bearer, {nonce})", bearer: key),
            await StartRunAsync(gateway, $"What is 17 * 23 + 4? (key as X-Api-Key, {nonce})", apiKey: key),
            await StartRunAsync(gateway, $"What is 17 * 23 + 4? (token, {nonce})", bearer: token),
        ];
        _runs.AddRange(runs);

        // Refused credentials: the right key id with a wrong secret, and a token signed by another key.
        var wrongKey = key[..(key.Length - SecretOf(key).Length)] + $"wrong-{Guid.NewGuid():N}";
        var forged = Token(RandomNumberGenerator.GetBytes(32), subject: "mallory");
        _secrets["refused API key"] = wrongKey;
        _secrets["refused API key secret"] = SecretOf(wrongKey);
        _secrets["refused token"] = forged;
        _secrets["refused token signature"] = forged[(forged.LastIndexOf('.') + 1)..];
        foreach (var refused in new[]
        {
            Request(HttpMethod.Post, "/runs", bearer: wrongKey, body: new { agent = Agent, goal = "What is 1 + 1?" }),
            Request(HttpMethod.Post, "/runs", apiKey: wrongKey, body: new { agent = Agent, goal = "What is 1 + 1?" }),
            Request(HttpMethod.Post, "/runs", bearer: forged, body: new { agent = Agent, goal = "What is 1 + 1?" }),
        })
        {
            using (refused)
            {
                await SendAsync(gateway, refused, HttpStatusCode.Unauthorized);
            }
        }

        foreach (var (type, _) in await Task.WhenAll(runs.Select(run => _outcomes.WaitAsync(run, TimeSpan.FromSeconds(90), () => _deployment.Logs))))
        {
            Assert.That(type, Is.EqualTo("RunCompleted"), _deployment.Logs);
        }

        // Read back as callers do: the transcripts with both credentials, the audit trail as the admin.
        for (var i = 0; i < runs.Length; i++)
        {
            await RunTranscriptAsync(gateway, runs[i], i % 2 == 0 ? key : token);
        }

        using var audit = Request(HttpMethod.Get, "/audit", bearer: token);
        Assert.That((await SendAsync(gateway, audit, HttpStatusCode.OK)).GetRawText(), Does.Contain("key.created"));

        await EventuallyAsync("an email for each run", TimeSpan.FromSeconds(60),
            () => runs.All(run => _smtp.Messages.Any(m => m.Contains(run.ToString(), StringComparison.Ordinal))));
        await EventuallyAsync("the runs in the exported traces, logs and metrics", TimeSpan.FromSeconds(30), () =>
            runs.All(run => Holds(Exported("traces"), run.ToString()) && Holds(Exported("logs"), run.ToString()))
            && Holds(Exported("metrics"), "agentry.runs.finished"));
        // What is still in the exporters' batches (the last requests' spans) arrives within a few delays.
        await Task.Delay(TimeSpan.FromSeconds(2));
        TestContext.Progress.WriteLine($"Secrets test: deployment up, {runs.Length} runs and 3 refusals done in {started.Elapsed.TotalSeconds:0.0}s.");
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        if (_bus is not null)
        {
            await _bus.DisposeAsync();
        }

        if (_outcomes is not null)
        {
            await _outcomes.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }

        if (_smtp is not null)
        {
            await _smtp.DisposeAsync();
        }

        if (_model is not null)
        {
            await _model.DisposeAsync();
        }

        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the operating system's temp cleanup.
        }
    }

    [Test]
    public void Should_have_used_every_secret()
    {
        // A secret nobody used could not leak: these show each one was in play.
        Assert.That(_model.Authorizations, Is.Not.Empty.And.All.EqualTo("Bearer " + _secrets["model provider API key"]), "the provider key reached the model server");
        Assert.That(_smtp.Logins, Does.Contain((SmtpUser, _secrets["SMTP password"])), "the SMTP password reached the mail server");
        Assert.That(_receiver.Exports.Select(e => e.Headers.GetValueOrDefault("Authorization")), Is.Not.Empty.And.All.EqualTo("Bearer " + _secrets["OTLP exporter token"]),
            "the exporter's header reached the receiver");
    }

    [Test]
    public void Should_export_no_secret_in_any_span_log_record_or_metric()
    {
        foreach (var signal in new[] { "traces", "logs", "metrics" })
        {
            var exports = Exported(signal);
            Assert.That(exports, Is.Not.Empty, $"no {signal} were exported");
            if (signal == "metrics")
            {
                // Metrics carry no run ids: the runs' own counter shows that they were counted.
                Assert.That(Holds(exports, "agentry.runs.finished"), "the finished runs are not in the exported metrics");
            }
            else
            {
                foreach (var run in _runs)
                {
                    Assert.That(Holds(exports, run.ToString()), $"run {run} is not in the exported {signal}");
                }
            }

            AssertNoSecretIn($"the exported {signal} ({exports.Count} requests, {exports.Sum(e => e.Length):N0} bytes)", exports);
        }
    }

    [Test]
    public void Should_write_no_secret_to_the_output_of_any_service()
    {
        foreach (var process in _deployment.Processes)
        {
            // The simple console formatter marks Debug lines "dbug:": the level was turned up.
            Assert.That(process.Log, Does.Contain("dbug:"), $"{process.Service} wrote nothing at Debug");
        }

        var all = _deployment.Logs;
        foreach (var run in _runs)
        {
            Assert.That(all, Does.Contain(run.ToString()), $"run {run} is not in the services' output");
        }

        foreach (var process in _deployment.Processes)
        {
            AssertNoSecretIn($"the output of {process.Service} ({process.Log.Length:N0} characters)", [Encoding.UTF8.GetBytes(process.Log)]);
        }
    }

    [Test]
    public void Should_store_no_secret_in_the_sqlite_file()
    {
        var path = new SqliteConnectionStringBuilder(_deployment.Environment["ConnectionStrings__sqlite"]).DataSource;
        var tables = SqliteText(path);
        Assert.That(tables.Keys, Does.Contain("api_keys"), "the Gateway's keys are in the file");
        Assert.That(tables["api_keys"], Does.Contain(KeyId(_secrets["API key"])), "the issued key is in the file");
        foreach (var run in _runs)
        {
            Assert.That(tables.Values.Any(text => text.Contains(run.ToString(), StringComparison.Ordinal)), $"run {run} is in no table of {string.Join(", ", tables.Keys)}");
        }

        foreach (var (table, text) in tables)
        {
            AssertNoSecretIn($"SQLite table {table} ({text.Length:N0} characters)", [Encoding.UTF8.GetBytes(text)]);
        }

        // The bytes themselves too: the write-ahead log, and freed pages that still hold old rows.
        var files = new[] { path, path + "-wal", path + "-shm", path + "-journal" }.Where(File.Exists).ToList();
        var bytes = files.Select(ReadShared).ToList();
        foreach (var run in _runs)
        {
            Assert.That(Holds(bytes, run.ToString()), $"run {run} is not in the raw bytes of {string.Join(", ", files)}");
        }

        for (var i = 0; i < files.Count; i++)
        {
            AssertNoSecretIn($"the raw bytes of {Path.GetFileName(files[i])} ({bytes[i].Length:N0} bytes)", [bytes[i]]);
        }
    }

    [Test]
    public async Task Should_store_no_secret_in_redis()
    {
        var entries = await RedisContentsAsync();
        foreach (var run in _runs)
        {
            Assert.That(entries.Any(e => e.Contains(run.ToString(), StringComparison.Ordinal) || e.Contains(run.ToString("N"), StringComparison.Ordinal)),
                $"run {run} is in none of the {entries.Count} Redis keys");
        }

        AssertNoSecretIn($"Redis ({entries.Count} keys with their values, {entries.Sum(e => e.Length):N0} characters)", entries.Select(Encoding.UTF8.GetBytes).ToList());
    }

    [Test]
    public void Should_send_no_secret_on_the_bus_by_email_or_in_the_gateways_answers()
    {
        var places = new (string Name, IReadOnlyList<string> Texts)[]
        {
            ("the messages on the bus", _bus.Messages.ToList()),
            ("the emails", _smtp.Messages.ToList()),
            ("the Gateway's answers (transcripts, audit trail)", _gatewayAnswers.ToList()),
        };
        foreach (var (name, texts) in places)
        {
            foreach (var run in _runs)
            {
                Assert.That(texts.Any(t => t.Contains(run.ToString(), StringComparison.Ordinal)), $"run {run} is not in {name} ({texts.Count})");
            }

            AssertNoSecretIn($"{name} ({texts.Count}, {texts.Sum(t => t.Length):N0} characters)", texts.Select(Encoding.UTF8.GetBytes).ToList());
        }
    }

    /// Fails naming each secret found, where, and what surrounds it.
    private void AssertNoSecretIn(string place, IReadOnlyList<byte[]> contents)
    {
        var found = new List<string>();
        foreach (var (name, secret) in _secrets)
        {
            foreach (var form in Forms(secret))
            {
                var needle = Encoding.UTF8.GetBytes(form);
                foreach (var content in contents)
                {
                    var at = content.AsSpan().IndexOf(needle);
                    if (at >= 0)
                    {
                        found.Add($"{name} at byte {at}: …{Printable(content, Math.Max(0, at - 200), Math.Min(content.Length, at + needle.Length + 80))}…");
                        break;
                    }
                }
            }
        }

        Assert.That(found, Is.Empty, $"secrets in {place}:{Environment.NewLine}{string.Join(Environment.NewLine, found)}");
    }

    /// The secret as written, and as JSON and URLs write it.
    private static IEnumerable<string> Forms(string secret) =>
        new[] { secret, JsonSerializer.Serialize(secret)[1..^1], Uri.EscapeDataString(secret) }.Distinct();

    private static string Printable(byte[] content, int from, int to) =>
        new(Encoding.UTF8.GetString(content, from, to - from).Select(c => char.IsControl(c) ? '·' : c).ToArray());

    private List<byte[]> Exported(string signal) => _receiver.Exports.Where(e => e.Signal == signal).Select(e => e.Body).ToList();

    private static bool Holds(IEnumerable<byte[]> contents, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return contents.Any(content => content.AsSpan().IndexOf(needle) >= 0);
    }

    private static async Task EventuallyAsync(string what, TimeSpan timeout, Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > timeout)
            {
                Assert.Fail($"Waited {timeout.TotalSeconds:0}s for {what}.");
            }

            await Task.Delay(200);
        }
    }

    private async Task<Guid> StartRunAsync(HttpClient gateway, string goal, string? bearer = null, string? apiKey = null)
    {
        using var request = Request(HttpMethod.Post, "/runs", bearer, apiKey, new { agent = Agent, goal });
        return (await SendAsync(gateway, request, HttpStatusCode.Accepted)).GetProperty("runId").GetGuid();
    }

    /// Memory records the end just after the saga announces it: asks until the transcript says Completed.
    private async Task RunTranscriptAsync(HttpClient gateway, Guid run, string credential)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var request = Request(HttpMethod.Get, $"/runs/{run}", bearer: credential);
            var transcript = await SendAsync(gateway, request, HttpStatusCode.OK);
            if (transcript.GetProperty("status").GetString() == "Completed")
            {
                Assert.That(transcript.GetProperty("steps").GetArrayLength(), Is.GreaterThanOrEqualTo(2), "the run called the calculator, then answered");
                return;
            }

            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), $"run {run}: {transcript}");
            await Task.Delay(200);
        }
    }

    private async Task<JsonElement> SendAsync(HttpClient gateway, HttpRequestMessage request, HttpStatusCode expected, bool keep = true)
    {
        using var response = await gateway.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(expected), $"{request.Method} {request.RequestUri}: {text}");
        if (keep)
        {
            _gatewayAnswers.Enqueue($"{(int)response.StatusCode} {response.Headers}{response.Content.Headers}\n{text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? bearer = null, string? apiKey = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        return request;
    }

    /// A token as an OpenID Connect provider would sign it with the shared key (HS256).
    private static string Token(byte[] key, string subject)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = subject,
            ["preferred_username"] = subject,
            ["tenant"] = Tenant,
            ["roles"] = new[] { "submit", "read", "admin" },
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + 3600,
        }));
        return $"{header}.{payload}.{Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}")))}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // agk_<16 hex id>_<secret>
    private static string KeyId(string key) => key.Split('_')[1];

    private static string SecretOf(string key) => key["agk_".Length..][(KeyId(key).Length + 1)..];

    /// Every table's rows as text, blobs read as UTF-8.
    private static Dictionary<string, string> SqliteText(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var text = new Dictionary<string, string>();
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            using var reader = select.ExecuteReader();
            var rows = new StringBuilder();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    rows.Append(reader.GetName(i)).Append('=').Append(reader.GetValue(i) switch
                    {
                        byte[] blob => Encoding.UTF8.GetString(blob),
                        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    }).Append('\t');
                }

                rows.AppendLine();
            }

            text[table] = rows.ToString();
        }

        return text;
    }

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        file.CopyTo(copy);
        return copy.ToArray();
    }

    /// Every key of the database the deployment uses, each with its value, whatever its type. Other
    /// test runs share the server: their keys are searched too, which costs nothing and misses nothing.
    private static async Task<List<string>> RedisContentsAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.RedisConfiguration);
        var database = redis.GetDatabase();
        var keys = new List<RedisKey>();
        await foreach (var key in redis.GetServers().First().KeysAsync(database.Database, pattern: "*", pageSize: 1000))
        {
            keys.Add(key);
        }

        return [.. await Task.WhenAll(keys.Select(async key => $"{key}\n{await ValueOfAsync(database, key)}"))];
    }

    private static async Task<string> ValueOfAsync(IDatabase database, RedisKey key) => await database.KeyTypeAsync(key) switch
    {
        RedisType.String => (string?)await database.StringGetAsync(key) ?? "",
        RedisType.Hash => string.Join('\n', (await database.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}")),
        RedisType.List => string.Join('\n', await database.ListRangeAsync(key)),
        RedisType.Set => string.Join('\n', await database.SetMembersAsync(key)),
        RedisType.SortedSet => string.Join('\n', (await database.SortedSetRangeByRankWithScoresAsync(key)).Select(e => $"{e.Element} {e.Score}")),
        RedisType.Stream => string.Join('\n', (await database.StreamRangeAsync(key)).SelectMany(e => e.Values.Select(v => $"{e.Id} {v.Name}={v.Value}"))),
        // Gone since the scan.
        _ => "",
    };

    /// An OpenAI-compatible chat-completions server: a calculator call first, then the answer once
    /// the call's result is in the conversation. It keeps the Authorization header of each request.
    private sealed class FakeModel : IAsyncDisposable
    {
        private WebApplication _app = null!;

        public ConcurrentQueue<string?> Authorizations { get; } = new();

        public Uri BaseUrl { get; private set; } = null!;

        public static async Task<FakeModel> StartAsync()
        {
            var model = new FakeModel();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
            {
                model.Authorizations.Enqueue(request.Headers.Authorization.FirstOrDefault());
                var body = (await JsonNode.ParseAsync(request.Body))!;
                return Results.Text(Complete(body).ToJsonString(), "application/json");
            });
            await app.StartAsync();
            model._app = app;
            model.BaseUrl = new Uri(app.Urls.First() + "/v1");
            return model;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private static JsonObject Complete(JsonNode request)
        {
            var answered = request["messages"]!.AsArray().Any(m => m?["role"]?.GetValue<string>() == "tool");
            var calculator = request["tools"]?.AsArray().Select(t => t?["function"]?["name"]?.GetValue<string>()).FirstOrDefault(n => n?.EndsWith("calculator", StringComparison.Ordinal) == true);
            var message = answered || calculator is null
                ? new JsonObject { ["role"] = "assistant", ["content"] = "17 * 23 + 4 = 395." }
                : new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_" + Guid.NewGuid().ToString("N")[..12],
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = calculator, ["arguments"] = """{"expression":"17 * 23 + 4"}""" },
                    }),
                };
            return new JsonObject
            {
                ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = request["model"]?.GetValue<string>() ?? "gpt-4o-mini",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = message,
                    ["logprobs"] = null,
                    ["finish_reason"] = message.ContainsKey("tool_calls") ? "tool_calls" : "stop",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 50, ["completion_tokens"] = 10, ["total_tokens"] = 60 },
            };
        }
    }

    /// A real SMTP listener (the SmtpServer package) that takes any login over plain text, as a
    /// relay on the same host may, and keeps each message as sent and each login.
    private sealed class SmtpListener : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _running = Task.CompletedTask;

        public int Port { get; private set; }

        public ConcurrentQueue<string> Messages { get; } = new();

        public ConcurrentQueue<(string User, string Password)> Logins { get; } = new();

        public static async Task<SmtpListener> StartAsync()
        {
            var listener = new SmtpListener();
            // The server takes a port to listen on, not 0: borrow a free one from the OS.
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                listener.Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            var options = new SmtpServerOptionsBuilder()
                .ServerName("localhost")
                .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, listener.Port)).AllowUnsecureAuthentication(true).AuthenticationRequired(false))
                .Build();
            var services = new SmtpServer.ComponentModel.ServiceProvider();
            services.Add(new Store(listener));
            services.Add(new DelegatingUserAuthenticator((user, password) =>
            {
                listener.Logins.Enqueue((user, password));
                return true;
            }));
            listener._running = new SmtpServer.SmtpServer(options, services).StartAsync(listener._stop.Token);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, listener.Port);
                    return listener;
                }
                catch (SocketException) when (attempt < 100)
                {
                    await Task.Delay(20);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private sealed class Store(SmtpListener listener) : MessageStore
        {
            public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
            {
                listener.Messages.Enqueue(Encoding.UTF8.GetString(buffer.ToArray()));
                return Task.FromResult(SmtpResponse.Ok);
            }
        }
    }

    /// A queue of the test's own bound to every exchange of the deployment's virtual host: a copy
    /// of each message the services publish or send, with its headers.
    private sealed class BusTap : IAsyncDisposable
    {
        private IConnection _connection = null!;
        private IChannel _channel = null!;

        public ConcurrentQueue<string> Messages { get; } = new();

        public static async Task<BusTap> StartAsync(string amqpUrl)
        {
            var tap = new BusTap();
            tap._connection = await new ConnectionFactory { Uri = new Uri(amqpUrl) }.CreateConnectionAsync();
            tap._channel = await tap._connection.CreateChannelAsync();
            var queue = await tap._channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
            foreach (var exchange in await ExchangesAsync(amqpUrl, tap._channel))
            {
                await tap._channel.QueueBindAsync(queue.QueueName, exchange, routingKey: "");
            }

            var consumer = new AsyncEventingBasicConsumer(tap._channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                var headers = string.Join('\n', (delivery.BasicProperties.Headers ?? new Dictionary<string, object?>()).Select(h => $"{h.Key}: {Text(h.Value)}"));
                tap.Messages.Enqueue($"{delivery.Exchange}\n{headers}\n{Encoding.UTF8.GetString(delivery.Body.Span)}");
                return Task.CompletedTask;
            };
            await tap._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
            return tap;
        }

        public async ValueTask DisposeAsync()
        {
            await _channel.DisposeAsync();
            await _connection.DisposeAsync();
        }

        /// The exchanges the running services declared (endpoints, message types, their response
        /// addresses), and those of every contract type, declared here as MassTransit declares them,
        /// so that one first published later (a fault) is caught too.
        private static async Task<List<string>> ExchangesAsync(string amqpUrl, IChannel channel)
        {
            var exchanges = new HashSet<string>(StringComparer.Ordinal);
            var virtualHost = Uri.UnescapeDataString(new Uri(amqpUrl).AbsolutePath.TrimStart('/')) is { Length: > 0 } named ? named : "/";
            if (await TestServers.RabbitMqCtlAsync("list_exchanges", "-p", virtualHost, "name", "type", "--quiet", "--no-table-headers") is { ExitCode: 0 } listed)
            {
                foreach (var line in listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (line.Split('\t') is [var name, "fanout"] && name.Length > 0 && !name.StartsWith("amq.", StringComparison.Ordinal))
                    {
                        exchanges.Add(name);
                    }
                }
            }

            foreach (var type in typeof(GoalReceived).Assembly.GetExportedTypes().Where(t => t.Namespace == "Agentry.Contracts" && !t.IsNested && !t.IsGenericType && !t.IsEnum && !t.IsValueType))
            {
                foreach (var name in new[] { $"Agentry.Contracts:{type.Name}", $"MassTransit:Fault--Agentry.Contracts:{type.Name}--" })
                {
                    if (exchanges.Add(name))
                    {
                        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false);
                    }
                }
            }

            return [.. exchanges];
        }

        private static string Text(object? value) => value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            IDictionary<string, object?> table => string.Join(", ", table.Select(e => $"{e.Key}={Text(e.Value)}")),
            IEnumerable<object?> items => string.Join(", ", items.Select(Text)),
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
        };
    }
}
