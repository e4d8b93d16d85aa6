using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Gateway.Security;
using Agentry.Gateway.Stores.Sqlite;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Agentry.Distributed.Tests;

/// The Gateway's process, with API keys and JWT bearer tokens, against callers who try what they
/// should not: no credential, a wrong or revoked key, a token that is expired, badly signed, of
/// another issuer or of no tenant, a forged tenant header, another tenant's run, a role they lack,
/// a flood of submissions, a body too large or too deep. Every refusal must say why, and enqueue
/// nothing; every admitted run must end.
[NonParallelizable]
public sealed class When_callers_of_the_gateway_are_hostile
{
    private const string Issuer = "https://login.hostile.test/realms/agentry";
    private const string Audience = "agentry-gateway";
    private const string Sum = "What is 2 + 3?";
    private const int KeyBurst = 20;

    private static readonly byte[] SigningSecret = RandomNumberGenerator.GetBytes(32);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    private readonly string _orders = Path.Combine(Path.GetTempPath(), $"agentry-orders-{Guid.NewGuid():N}.db");
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private GoalsSeen _goals = null!;
    private SqliteApiKeyStore _keys = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task Deploy()
    {
        _deployment = await Deployment.StartAsync(new Dictionary<string, string>
        {
            ["Tools__Orders__ConnectionString"] = $"Data Source={_orders}",
            ["Gateway__Jwt__Issuer"] = Issuer,
            ["Gateway__Jwt__Audience"] = Audience,
            ["Gateway__Jwt__SigningKeys__0"] = "base64:" + Convert.ToBase64String(SigningSecret),
            // A small bucket that refills slowly, so that a burst of 1,000 admits a few dozen runs
            // (the machine must run them all) and the refusals are certain.
            ["Gateway__PerKey__Burst"] = KeyBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__PerKey__PerSecond"] = "1",
            ["Gateway__PerTenant__Burst"] = "100000",
            ["Gateway__PerTenant__PerSecond"] = "100000",
        });
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _goals = await GoalsSeen.StartAsync(_deployment.AmqpUrl);
        _keys = new SqliteApiKeyStore(_deployment.Environment["ConnectionStrings__sqlite"]);
        _http = new HttpClient { BaseAddress = _deployment.Get("Gateway").BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _http?.Dispose();
        if (_goals is not null)
        {
            await _goals.DisposeAsync();
        }

        if (_outcomes is not null)
        {
            await _outcomes.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }

        File.Delete(_orders);
    }

    [Test]
    public async Task Should_refuse_a_caller_without_a_credential_and_say_how_to_send_one()
    {
        var goal = Marked(Sum);

        var answer = await SubmitAsync(null, goal);

        AssertProblem(answer, 401, Does.StartWith("Send a credential: `Authorization: Bearer <API key or token>` or `X-Api-Key: <API key>`."));
        Assert.That(answer.Challenge, Does.StartWith("Bearer"), "a 401 names the scheme to use");
        AssertProblem(await SendAsync(HttpMethod.Get, $"/runs/{Guid.NewGuid()}", null), 401, Does.StartWith("Send a credential"));
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_refuse_a_wrong_key_alike_whether_its_id_exists_or_not()
    {
        var real = await KeyAsync("acme", "real", GatewayRoles.Submit);
        var (id, _) = ApiKeys.Parse(real)!.Value;
        var goal = Marked(Sum);

        var wrongSecret = await SubmitAsync($"agk_{id}_{new string('A', 43)}", goal);
        var unknownId = await SubmitAsync($"agk_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}_{new string('A', 43)}", goal);
        var wrongInHeader = await SendAsync(HttpMethod.Post, "/runs", null, Goal(goal), request => request.Headers.Add("X-Api-Key", $"agk_{id}_guessed"));
        var misshapen = await SubmitAsync($"agk_{id[..8]}_{new string('A', 43)}", goal);

        // One answer for both, so that a caller cannot learn which key ids exist.
        AssertProblem(wrongSecret, 401, Is.EqualTo("The API key is not valid."));
        AssertProblem(unknownId, 401, Is.EqualTo("The API key is not valid."));
        AssertProblem(wrongInHeader, 401, Is.EqualTo("The API key is not valid."));
        // Bearer tokens are on here: the refusal must not say that this Gateway takes none.
        AssertProblem(misshapen, 401, Is.EqualTo("The credential starts like an Agentry API key but is not one: a key reads agk_<16 hex digits>_<secret>."));
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_refuse_a_revoked_key_and_say_it_was_revoked()
    {
        var key = await KeyAsync("acme", "leaver", GatewayRoles.Submit, GatewayRoles.Read);
        var (id, _) = ApiKeys.Parse(key)!.Value;
        Assert.That((await SendAsync(HttpMethod.Get, "/approvals", key)).Status, Is.EqualTo(200), "the key works before it is revoked");

        Assert.That(await _keys.RevokeAsync(id, "acme", DateTimeOffset.UtcNow, CancellationToken.None), Is.True);
        var goal = Marked(Sum);
        var submitted = await SubmitAsync(key, goal);
        var read = await SendAsync(HttpMethod.Get, "/approvals", key);

        AssertProblem(submitted, 401, Does.StartWith($"The API key {id} was revoked at "));
        AssertProblem(read, 401, Does.StartWith($"The API key {id} was revoked at "));
        await AssertNothingEnqueuedAsync(goal);
    }

    [TestCase("expired", "The token expired at ")]
    [TestCase("signed with another secret", "The token's signature does not verify with the issuer's keys.")]
    [TestCase("unsigned", "The token's signature does not verify with the issuer's keys.")]
    [TestCase("of another issuer", "The token's issuer is not the one this Gateway trusts.")]
    [TestCase("for another audience", "The token was issued for another audience.")]
    [TestCase("without a tenant", "The token names no tenant: it needs the claim 'tenant'.")]
    [TestCase("without an expiry", "The token has no expiry: this Gateway takes only tokens that expire.")]
    [TestCase("not a token at all", "The bearer credential is neither an API key nor a well-formed token.")]
    public async Task Should_refuse_a_bearer_token_that_is(string flaw, string detail)
    {
        var now = DateTime.UtcNow;
        var token = flaw switch
        {
            "expired" => Token(notBefore: now.AddMinutes(-20), expires: now.AddMinutes(-10)),
            "signed with another secret" => Token(secret: RandomNumberGenerator.GetBytes(32)),
            "unsigned" => Token(secret: []),
            "of another issuer" => Token(issuer: "https://login.attacker.test/"),
            "for another audience" => Token(audience: "another-api"),
            "without a tenant" => Token(tenant: null),
            "without an expiry" => Token(expires: DateTime.MaxValue),
            _ => "eyJhbGciOiJub25lIn0.not-a-token",
        };
        var goal = Marked(Sum);

        var answer = await SubmitAsync(token, goal);

        AssertProblem(answer, 401, Does.StartWith(detail));
        Assert.That(answer.Body, Does.Not.Contain(token), "a refusal never echoes the credential");
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_run_a_valid_token_under_its_tenant_with_the_roles_it_names()
    {
        var submitter = Token(tenant: "token-tenant", roles: [GatewayRoles.Submit]);
        var reader = Token(tenant: "token-tenant", scope: "openid read");

        var answer = await SubmitAsync(submitter, Sum);
        Assert.That(answer.Status, Is.EqualTo(202), answer.Body);
        var runId = answer.RunId;

        var run = await WaitForEndAsync(reader, runId);
        Assert.That((run.GetProperty("status").GetString(), run.GetProperty("tenantId").GetString(), run.GetProperty("answer").GetString()),
            Is.EqualTo(("Completed", "token-tenant", "5")), run.ToString());
        AssertProblem(await SendAsync(HttpMethod.Get, $"/runs/{runId}", submitter), 403, Does.Contain("lacks the role 'read'"));
        AssertProblem(await SubmitAsync(reader, Sum), 403, Does.Contain("lacks the role 'submit'"));
    }

    [Test]
    public async Task Should_record_a_run_under_the_keys_tenant_whatever_tenant_header_is_forged()
    {
        var acme = await KeyAsync("acme", "acme submitter", GatewayRoles.Submit, GatewayRoles.Read);
        var globex = await KeyAsync("globex", "globex reader", GatewayRoles.Read);

        var answer = await SendAsync(HttpMethod.Post, "/runs", acme, Goal(Sum), request => request.Headers.Add("X-Tenant-Id", "globex"));
        Assert.That(answer.Status, Is.EqualTo(202), answer.Body);

        var run = await WaitForEndAsync(acme, answer.RunId);
        Assert.That((run.GetProperty("tenantId").GetString(), run.GetProperty("status").GetString()), Is.EqualTo(("acme", "Completed")), run.ToString());
        Assert.That(_goals.Of(answer.RunId)?.TenantId, Is.EqualTo("acme"), "the goal on the bus names the key's tenant");
        AssertProblem(await SendAsync(HttpMethod.Get, $"/runs/{answer.RunId}", globex), 404, Is.EqualTo($"No run {answer.RunId} is known."));
    }

    [Test]
    public async Task Should_refuse_a_body_that_names_another_tenant()
    {
        var acme = await KeyAsync("acme", "acme submitter", GatewayRoles.Submit);
        var goal = Marked(Sum);

        var answer = await SubmitAsync(acme, goal, tenantId: "globex");

        AssertProblem(answer, 403, Is.EqualTo("Your credential acts for tenant 'acme'; the body names tenant 'globex'. Leave tenantId out: a run's tenant is its caller's."));
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_answer_another_tenants_run_as_unknown_and_leave_it_untouched()
    {
        string[] everything = [GatewayRoles.Submit, GatewayRoles.Read, GatewayRoles.Approve];
        var owner = await KeyAsync("bravo", "bravo agent", everything);
        var intruder = await KeyAsync("alpha", "alpha intruder", everything);
        var started = await SendAsync(HttpMethod.Post, "/runs", owner, new { agent = "customer-support", goal = "Refund order 1042, the customer received a broken kettle." });
        Assert.That(started.Status, Is.EqualTo(202), started.Body);
        var runId = started.RunId;
        var callId = await WaitForPendingApprovalAsync(owner, runId);

        var read = await SendAsync(HttpMethod.Get, $"/runs/{runId}", intruder);
        var cancelled = await SendAsync(HttpMethod.Post, $"/runs/{runId}/cancel", intruder, new { reason = "hostile" });
        var approved = await SendAsync(HttpMethod.Post, $"/runs/{runId}/approvals/{callId}", intruder, new { approved = true, comment = "hostile" });
        var denied = await SendAsync(HttpMethod.Post, $"/runs/{runId}/approvals/{callId}", intruder, new { approved = false, comment = "hostile" });
        var closed = await SendAsync(HttpMethod.Post, $"/runs/{runId}/close", intruder, new { resolution = "hostile" });
        var listed = await SendAsync(HttpMethod.Get, "/approvals", intruder);
        var unknown = Guid.NewGuid();
        var nobodys = await SendAsync(HttpMethod.Get, $"/runs/{unknown}", intruder);

        // Word for word the answer for a run that does not exist: a 403 would tell that it does.
        foreach (var (what, answer) in new[] { ("read", read), ("cancel", cancelled), ("approve", approved), ("deny", denied), ("close", closed) })
        {
            AssertProblem(answer, 404, Is.EqualTo($"No run {runId} is known."), what);
            Assert.That(Untraced(answer, runId), Is.EqualTo(Untraced(nobodys, unknown)), what);
        }

        Assert.That(listed.Status, Is.EqualTo(200), listed.Body);
        Assert.That(listed.Json.GetProperty("approvals").EnumerateArray().Select(a => a.GetProperty("runId").GetGuid()), Does.Not.Contain(runId));

        var meanwhile = await SendAsync(HttpMethod.Get, $"/runs/{runId}", owner);
        Assert.That(meanwhile.Json.GetProperty("status").GetString(), Is.EqualTo("Running"), meanwhile.Body);
        var approval = meanwhile.Json.GetProperty("approvals").EnumerateArray().Single(a => a.GetProperty("callId").GetString() == callId);
        Assert.That(approval.GetProperty("approved").ValueKind, Is.EqualTo(JsonValueKind.Null), "nobody has decided the call yet");

        var decided = await SendAsync(HttpMethod.Post, $"/runs/{runId}/approvals/{callId}", owner, new { approved = true, comment = "broken on arrival" });
        Assert.That(decided.Status, Is.EqualTo(202), decided.Body);
        var (type, message) = await _outcomes.WaitAsync(runId, RunTimeout, () => _deployment.Logs);
        Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Does.StartWith("Refunded 249.99 EUR for order 1042"));
        var run = await WaitForEndAsync(owner, runId);
        var decision = run.GetProperty("approvals").EnumerateArray().Single(a => a.GetProperty("callId").GetString() == callId);
        Assert.That((decision.GetProperty("approved").GetBoolean(), decision.GetProperty("decidedBy").GetString()), Is.EqualTo((true, "bravo agent")));
    }

    [Test]
    public async Task Should_refuse_a_reader_what_only_submitters_and_approvers_may_do()
    {
        var reader = await KeyAsync("acme", "auditor", GatewayRoles.Read);
        var (id, _) = ApiKeys.Parse(reader)!.Value;
        var goal = Marked(Sum);
        var runId = Guid.NewGuid();

        Assert.That((await SendAsync(HttpMethod.Get, "/approvals", reader)).Status, Is.EqualTo(200), "the key is valid for what it may do");
        var submitted = await SubmitAsync(reader, goal);
        var approved = await SendAsync(HttpMethod.Post, $"/runs/{runId}/approvals/call-1", reader, new { approved = true });
        var cancelled = await SendAsync(HttpMethod.Post, $"/runs/{runId}/cancel", reader, new { reason = "mine now" });
        var keys = await SendAsync(HttpMethod.Post, "/keys", reader, new { name = "escalation", roles = "admin" });

        AssertProblem(submitted, 403, Is.EqualTo($"auditor (key {id}) lacks the role 'submit' that this needs."));
        AssertProblem(approved, 403, Is.EqualTo($"auditor (key {id}) lacks the role 'approve' that this needs."));
        AssertProblem(cancelled, 403, Is.EqualTo($"auditor (key {id}) lacks the role 'submit' that this needs."));
        AssertProblem(keys, 403, Is.EqualTo($"auditor (key {id}) lacks the role 'admin' that this needs."));
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_admit_a_flood_from_one_key_up_to_its_bucket_run_every_admitted_run_and_still_serve_another_tenant()
    {
        var flooder = await KeyAsync("flood", "flooder", GatewayRoles.Submit);
        var bystander = await KeyAsync("bystanders", "bystander", GatewayRoles.Submit, GatewayRoles.Read);
        using var shared = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32 })
        {
            BaseAddress = _deployment.Get("Gateway").BaseAddress,
            Timeout = TimeSpan.FromSeconds(90),
        };
        var firstRefusal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();

        var flood = Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ =>
        {
            var answer = await SendAsync(HttpMethod.Post, "/runs", flooder, Goal(Sum), client: shared);
            if (answer.Status == 429)
            {
                firstRefusal.TrySetResult();
            }

            return answer;
        }));
        await firstRefusal.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var neighbour = await SubmitAsync(bystander, Sum);
        var duringFlood = !flood.IsCompleted;
        var answers = await flood;
        var elapsed = clock.Elapsed;

        Assert.That(neighbour.Status, Is.EqualTo(202), "another tenant is not starved by one key's flood: " + neighbour.Body);
        Assert.That(duringFlood, Is.True, "the other tenant's run was submitted while the flood was still being answered");
        var admitted = answers.Where(a => a.Status == 202).Select(a => a.RunId).ToList();
        var refused = answers.Where(a => a.Status != 202).ToList();
        TestContext.Progress.WriteLine($"flood: {admitted.Count} admitted, {refused.Count} refused in {elapsed.TotalSeconds:F1} s");
        // The bucket: full at first, then one a second while the flood lasts.
        Assert.That(admitted, Has.Count.InRange(KeyBurst, KeyBurst + (int)Math.Ceiling(elapsed.TotalSeconds) + 1));
        Assert.That(refused.Select(a => a.Status).Distinct(), Is.EquivalentTo(new[] { 429 }));
        Assert.That(refused.Select(a => a.MediaType).Distinct(), Is.EquivalentTo(new[] { "application/problem+json" }));
        Assert.That(refused.Select(a => a.Detail), Is.All.StartsWith($"Too many runs submitted. A key may submit {KeyBurst} at once and 1 a second after that;"));
        Assert.That(refused.Select(a => a.RetryAfter?.TotalSeconds ?? 0), Is.All.GreaterThanOrEqualTo(1), "every refusal says when to retry");

        // Nothing lost: every admitted run ends, and ends completed.
        var ends = await Task.WhenAll(admitted.Append(neighbour.RunId).Select(id => _outcomes.WaitAsync(id, RunTimeout, () => _deployment.Logs)));
        Assert.That(ends.Select(e => e.Type), Is.All.EqualTo("RunCompleted"), string.Join(Environment.NewLine, ends.Select(e => e.Message.ToString())));
        Assert.That(ends.Select(e => e.Message.GetProperty("answer").GetString()), Is.All.EqualTo("5"));
        // Nothing refused went on the bus: the goals of the flood's tenant are exactly the admitted runs.
        Assert.That(_goals.OfTenant("flood").Select(g => g.RunId), Is.EquivalentTo(admitted));
    }

    [Test]
    public async Task Should_refuse_a_declared_body_over_the_limit_before_it_is_sent()
    {
        var key = await KeyAsync("acme", "uploader", GatewayRoles.Submit);
        var goal = Marked(Sum);
        var body = new ByteArrayContent(OverTheLimit(goal));
        body.Headers.ContentType = new("application/json");

        // A client that declares a large body asks to continue first, as curl does: the Gateway answers 413 before any
        // byte is sent. This client waits for that answer however busy the machine is; HttpClient's default sends the
        // body after 1 s without one, and the Gateway then closes on a body it will not read (a broken pipe).
        using var patient = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(60) })
        {
            BaseAddress = _deployment.Get("Gateway").BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var answer = await SendAsync(HttpMethod.Post, "/runs", key, body, request => request.Headers.ExpectContinue = true, patient);

        AssertProblem(answer, 413, RefusedAsTooLarge());
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_refuse_a_chunked_body_once_it_passes_the_limit()
    {
        var key = await KeyAsync("acme", "streamer", GatewayRoles.Submit);
        var goal = Marked(Sum);

        var answer = await SendChunkedAsync("/runs", key, OverTheLimit(goal));

        AssertProblem(answer, 413, RefusedAsTooLarge());
        await AssertNothingEnqueuedAsync(goal);
    }

    [Test]
    public async Task Should_refuse_an_input_nested_too_deep_and_json_nested_deeper_than_the_reader_goes()
    {
        var key = await KeyAsync("acme", "nester", GatewayRoles.Submit);
        var goal = Marked(Sum);

        var deepInput = await SendAsync(HttpMethod.Post, "/runs", key, Json($$"""{"agent":"assistant","goal":"{{goal}}","input":{{Nested(40)}}}"""));
        var deepJson = await SendAsync(HttpMethod.Post, "/runs", key, Json($$"""{"agent":"assistant","goal":"{{goal}}","input":{{Nested(200)}}}"""));
        var longGoal = await SubmitAsync(key, goal + new string(' ', 10) + new string('x', 40_000));

        AssertProblem(deepInput, 400, Is.EqualTo("input nests 40 levels deep; the limit is 32 (Goals:MaxInputDepth)."));
        AssertProblem(deepJson, 400, Does.StartWith("The body is not the JSON expected: ").And.Contain("depth"));
        AssertProblem(longGoal, 400, Does.StartWith("goal is 40,0").And.EndWith("characters; the limit is 32,768 (Goals:MaxGoalCharacters)."));
        await AssertNothingEnqueuedAsync(goal);
    }

    /// A key of the deployment's own store, as `agentry keys create` makes one.
    private async Task<string> KeyAsync(string tenant, string name, params string[] roles)
    {
        var issued = ApiKeys.Issue(tenant, name, roles, "hostile tests", DateTimeOffset.UtcNow);
        await _keys.AddAsync(issued.Key, CancellationToken.None);
        return issued.Secret;
    }

    /// A token as the trusted provider would sign it, unless told otherwise.
    private static string Token(
        string? tenant = "token-tenant", string issuer = Issuer, string audience = Audience, byte[]? secret = null,
        DateTime? notBefore = null, DateTime? expires = null, string[]? roles = null, string? scope = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = "user-7", ["preferred_username"] = "jo@example.com" };
        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }

        claims["roles"] = roles ?? [GatewayRoles.Submit, GatewayRoles.Read];
        if (scope is not null)
        {
            claims.Remove("roles");
            claims["scope"] = scope;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            // DateTime.MaxValue stands for none: a token that never expires.
            Expires = expires == DateTime.MaxValue ? null : expires ?? now.AddMinutes(10),
            // No secret: alg "none", as a forger without any key would send it.
            SigningCredentials = secret is [] ? null : new SigningCredentials(new SymmetricSecurityKey(secret ?? SigningSecret), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// A problem as a caller could compare two of them: without its trace id, the run's id written <id>.
    private static string Untraced(Answer answer, Guid runId) =>
        string.Join(", ", answer.Json.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}: {p.Value}"))
            .Replace(runId.ToString(), "<id>", StringComparison.Ordinal);

    private static string Marked(string goal) => $"{goal} [{Guid.NewGuid():N}]";

    private static object Goal(string goal) => new { agent = "assistant", goal };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    private Task<Answer> SubmitAsync(string? credential, string goal, string? tenantId = null) =>
        SendAsync(HttpMethod.Post, "/runs", credential, tenantId is null ? Goal(goal) : new { agent = "assistant", goal, tenantId });

    private async Task<Answer> SendAsync(HttpMethod method, string path, string? credential, object? body = null, Action<HttpRequestMessage>? configure = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (credential is not null)
        {
            request.Headers.Authorization = new("Bearer", credential);
        }

        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body);
        }

        configure?.Invoke(request);
        using var response = await (client ?? _http).SendAsync(request);
        return new Answer(
            (int)response.StatusCode,
            await response.Content.ReadAsStringAsync(),
            response.Content.Headers.ContentType?.MediaType,
            response.Headers.RetryAfter?.Delta,
            response.Headers.WwwAuthenticate.ToString());
    }

    /// The detail of a 413, however the body came.
    private static NUnit.Framework.Constraints.IResolveConstraint RefusedAsTooLarge() =>
        Does.StartWith("The request body is over ").And.Contain("(Gateway:MaxRequestBodyBytes); nothing was enqueued.");

    /// A valid goal with a large unknown field: without the body limit it would be accepted and enqueued.
    private static byte[] OverTheLimit(string goal) =>
        JsonSerializer.SerializeToUtf8Bytes(new { agent = "assistant", goal, padding = new string('x', 1_200_000) });

    /// Sends a body of unknown length (chunked) and reads the answer while still writing, as a browser does.
    /// HttpClient writes the whole body before it reads, so when the Gateway refuses part-way and closes the
    /// connection, HttpClient reports the broken write instead of the answer the Gateway sent.
    private async Task<Answer> SendChunkedAsync(string path, string credential, byte[] body)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var gateway = _deployment.Get("Gateway").BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {credential}\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"), timeout.Token);
        var writing = Task.Run(async () =>
        {
            try
            {
                foreach (var chunk in body.Chunk(64 * 1024))
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n"), timeout.Token);
                    await stream.WriteAsync(chunk, timeout.Token);
                    await stream.WriteAsync("\r\n"u8.ToArray(), timeout.Token);
                }

                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), timeout.Token);
            }
            catch (IOException)
            {
                // The Gateway refused and closed the connection: the answer it sent first says why.
            }
        });

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        Answer? answer;
        while ((answer = RawAnswer(received.ToArray())) is null)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException error)
            {
                throw new AssertionException($"the Gateway reset the connection before its answer was whole: {Encoding.UTF8.GetString(received.ToArray())}", error);
            }

            if (read == 0)
            {
                Assert.Fail($"the Gateway closed the connection before its answer was whole: {Encoding.UTF8.GetString(received.ToArray())}");
            }

            received.Write(buffer, 0, read);
        }

        await writing;
        return answer;
    }

    /// The answer in the bytes received so far, or null while it is not whole (its body has a
    /// Content-Length or comes in chunks; the Gateway's refusals do not end at the close).
    private static Answer? RawAnswer(byte[] received)
    {
        var text = Encoding.UTF8.GetString(received);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd < 0)
        {
            return null;
        }

        var lines = text[..headEnd].Split("\r\n");
        var headers = lines.Skip(1).Select(line => line.Split(':', 2)).ToDictionary(h => h[0].Trim().ToLowerInvariant(), h => h[1].Trim());
        var rest = text[(headEnd + 4)..];
        string body;
        if (headers.TryGetValue("content-length", out var length))
        {
            if (Encoding.UTF8.GetByteCount(rest) < int.Parse(length, System.Globalization.CultureInfo.InvariantCulture))
            {
                return null;
            }

            body = rest;
        }
        else if (headers.GetValueOrDefault("transfer-encoding") == "chunked")
        {
            var chunks = new StringBuilder();
            while (true)
            {
                var sizeEnd = rest.IndexOf("\r\n", StringComparison.Ordinal);
                if (sizeEnd < 0)
                {
                    return null;
                }

                var size = Convert.ToInt32(rest[..sizeEnd].Split(';')[0], 16);
                if (size == 0)
                {
                    break;
                }

                if (rest.Length < sizeEnd + 2 + size + 2)
                {
                    return null;
                }

                chunks.Append(rest, sizeEnd + 2, size);
                rest = rest[(sizeEnd + 2 + size + 2)..];
            }

            body = chunks.ToString();
        }
        else
        {
            throw new AssertionException($"an answer with neither Content-Length nor chunks: {text}");
        }

        return new Answer(
            int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture),
            body,
            headers.GetValueOrDefault("content-type")?.Split(';')[0].Trim(),
            null,
            headers.GetValueOrDefault("www-authenticate") ?? "");
    }

    private static void AssertProblem(Answer answer, int status, NUnit.Framework.Constraints.IResolveConstraint detail, string? what = null)
    {
        var context = $"{what} {answer.Status} {answer.Body}";
        Assert.That(answer.Status, Is.EqualTo(status), context);
        Assert.That(answer.MediaType, Is.EqualTo("application/problem+json"), context);
        Assert.That(answer.Detail, detail, context);
    }

    /// A refused request enqueued nothing: a run accepted after it reaches the goal exchange, and no
    /// goal of the refused request's text came before it (the refusal was answered before the fence
    /// was sent, and a goal is published before its request is answered).
    private async Task AssertNothingEnqueuedAsync(string refusedGoal)
    {
        var fence = await SubmitAsync(await KeyAsync("fences", "fence", GatewayRoles.Submit), Sum);
        Assert.That(fence.Status, Is.EqualTo(202), fence.Body);
        await _goals.WaitForAsync(fence.RunId, TimeSpan.FromSeconds(30));
        Assert.That(_goals.All.Where(g => g.Goal.Contains(refusedGoal, StringComparison.Ordinal)).Select(g => g.RunId), Is.Empty, "a refused request was enqueued");
    }

    /// The run as Memory records it, once it has ended.
    private async Task<JsonElement> WaitForEndAsync(string credential, Guid runId)
    {
        Answer? last = null;
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < RunTimeout; await Task.Delay(200))
        {
            last = await SendAsync(HttpMethod.Get, $"/runs/{runId}", credential);
            if (last.Status == 200 && last.Json.GetProperty("status").GetString() is "Completed" or "Failed" or "Escalated" or "Cancelled")
            {
                return last.Json;
            }
        }

        Assert.Fail($"run {runId} did not end within {RunTimeout.TotalSeconds} s; last answer {last?.Status} {last?.Body}{Environment.NewLine}{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
        return default;
    }

    private async Task<string> WaitForPendingApprovalAsync(string credential, Guid runId)
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < RunTimeout; await Task.Delay(200))
        {
            var pending = await SendAsync(HttpMethod.Get, "/approvals", credential);
            Assert.That(pending.Status, Is.EqualTo(200), pending.Body);
            if (pending.Json.GetProperty("approvals").EnumerateArray().FirstOrDefault(a => a.GetProperty("runId").GetGuid() == runId) is { ValueKind: JsonValueKind.Object } approval)
            {
                return approval.GetProperty("callId").GetString()!;
            }
        }

        Assert.Fail($"run {runId} never waited for an approval{Environment.NewLine}{await _deployment.DescribeAsync()}{Environment.NewLine}{_deployment.Logs}");
        return "";
    }

    private sealed record Answer(int Status, string Body, string? MediaType, TimeSpan? RetryAfter, string Challenge)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        public string? Detail => MediaType == "application/problem+json" && Json.TryGetProperty("detail", out var detail) ? detail.GetString() : null;

        public Guid RunId => Json.GetProperty("runId").GetGuid();
    }
}

/// Every goal published on the broker, as a system that watches the goal exchange would see it:
/// what proves that a refused request put nothing on the bus.
internal sealed class GoalsSeen : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, (Guid RunId, string? TenantId, string Goal)> _seen = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _arrivals = new();
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    public IReadOnlyList<(Guid RunId, string? TenantId, string Goal)> All => [.. _seen.Values];

    public static async Task<GoalsSeen> StartAsync(string amqpUrl)
    {
        var goals = new GoalsSeen();
        goals._connection = await new ConnectionFactory { Uri = new Uri(amqpUrl) }.CreateConnectionAsync();
        goals._channel = await goals._connection.CreateChannelAsync();
        var queue = await goals._channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
        await goals._channel.ExchangeDeclareAsync(RawRabbitMq.GoalExchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        await goals._channel.QueueBindAsync(queue.QueueName, RawRabbitMq.GoalExchange, routingKey: "");
        var consumer = new AsyncEventingBasicConsumer(goals._channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            using var document = JsonDocument.Parse(delivery.Body);
            var message = document.RootElement.GetProperty("message");
            var runId = message.GetProperty("runId").GetGuid();
            var tenant = message.TryGetProperty("tenantId", out var t) ? t.GetString() : null;
            goals._seen[runId] = (runId, tenant, message.GetProperty("goal").GetString() ?? "");
            goals.Arrival(runId).TrySetResult();
            return Task.CompletedTask;
        };
        await goals._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return goals;
    }

    public (Guid RunId, string? TenantId, string Goal)? Of(Guid runId) => _seen.TryGetValue(runId, out var goal) ? goal : null;

    public IEnumerable<(Guid RunId, string? TenantId, string Goal)> OfTenant(string tenant) => All.Where(g => g.TenantId == tenant);

    public async Task WaitForAsync(Guid runId, TimeSpan timeout)
    {
        try
        {
            await Arrival(runId).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the goal of run {runId} was not seen on the goal exchange within {timeout.TotalSeconds} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private TaskCompletionSource Arrival(Guid runId) =>
        _arrivals.GetOrAdd(runId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
