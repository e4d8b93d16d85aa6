using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Agentry.Cli;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;

namespace Agentry.Tests.Gateway;

/// Keys made by the CLI and by an admin over HTTP, the audit trail of those changes, and the
/// settings a Gateway refuses to start with; on `agentry serve` over real Kestrel. The hostile
/// callers of a deployed Gateway are in the distributed tests (When_callers_of_the_gateway_are_hostile).
public sealed class When_callers_authenticate : AgentryServerFixture
{
    private Dictionary<string, string?> StoreSettings => new() { ["ConnectionStrings:sqlite"] = Folder.SqliteConnectionString };

    private static async Task<(int Exit, string Output, string Error)> Keys(Func<TextWriter, TextWriter, Task<int>> command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await command(output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private HttpClient With(string key)
    {
        var client = new HttpClient { BaseAddress = Http.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    [Test]
    public async Task Should_create_a_key_shown_once_that_works_until_it_is_revoked()
    {
        var (exit, output, error) = await Keys((o, e) => KeyCommands.CreateAsync("acme", "ci pipeline", "submit,read", null, o, e, CancellationToken.None, StoreSettings));
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), error);
        var key = output.Trim();
        Assert.That(ApiKeys.Parse(key), Is.Not.Null, "stdout is the key and nothing else");
        var (id, secret) = ApiKeys.Parse(key)!.Value;
        Assert.That(error, Does.Contain($"Created key {id} 'ci pipeline' for tenant acme, roles submit,read").And.Contain("shown this once"));

        var (_, listed, _) = await Keys((o, e) => KeyCommands.ListAsync("acme", o, e, CancellationToken.None, StoreSettings));
        Assert.That(listed, Does.Contain($"{id}  acme  ci pipeline  roles submit,read  active"));
        Assert.That(listed, Does.Not.Contain(secret));
        Assert.That(Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Folder.File("agentry.db"))), Does.Not.Contain(secret), "only a salted hash is stored");

        using var ci = With(key);
        using (var started = await ci.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 + 3?" }))
        {
            Assert.That(started.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        }

        (exit, output, error) = await Keys((o, e) => KeyCommands.RevokeAsync(id, o, e, CancellationToken.None, StoreSettings));
        Assert.That((exit, output.Trim()), Is.EqualTo((ExitCodes.Completed, $"Revoked key {id}: the Gateway refuses it from its next request.")), error);
        using var refused = await ci.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 + 3?" });
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain($"The API key {id} was revoked at"));
        Assert.That(refused.Headers.WwwAuthenticate.ToString(), Does.Contain("Bearer"));

        (exit, _, error) = await Keys((o, e) => KeyCommands.RevokeAsync(id, o, e, CancellationToken.None, StoreSettings));
        Assert.That((exit, error.Trim()), Is.EqualTo((ExitCodes.BadInput, $"No active key {id}: `agentry keys list` shows the keys.")));
    }

    [TestCase("", "submit", "Name the key")]
    [TestCase("ci", "", "Name at least one role: submit, read, approve, manage, admin.")]
    [TestCase("ci", "submit,root", "Unknown role 'root'. Roles: submit, read, approve, manage, admin.")]
    public async Task Should_refuse_a_key_without_a_name_or_with_an_unknown_role(string name, string roles, string problem)
    {
        var (exit, output, error) = await Keys((o, e) => KeyCommands.CreateAsync("acme", name, roles, null, o, e, CancellationToken.None, StoreSettings));

        Assert.That((exit, output), Is.EqualTo((ExitCodes.BadInput, "")));
        Assert.That(error, Does.Contain(problem));
    }

    [Test]
    public async Task Should_let_an_admin_manage_the_keys_of_their_own_tenant_only_and_audit_it()
    {
        using var acmeAdmin = With(await CreateKeyAsync("acme", [GatewayRoles.Admin], "root"));
        var globexKey = await CreateKeyAsync("globex", [GatewayRoles.Submit], "globex-ci");
        var globexId = ApiKeys.Parse(globexKey)!.Value.Id;

        using var created = await acmeAdmin.PostAsJsonAsync("/keys", new { name = "support desk", roles = "read,approve", expiresInDays = 30 });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var key = (await created.Content.ReadFromJsonAsync<CreatedKey>())!;
        Assert.That((key.Details.TenantId, key.Details.Name), Is.EqualTo(("acme", "support desk")));
        Assert.That(key.Details.CreatedBy, Does.Match("^root \\(key [0-9a-f]{16}\\)$"));
        Assert.That(ApiKeys.Parse(key.Key)!.Value.Id, Is.EqualTo(key.Details.Id));
        Assert.That(key.Details.Roles, Is.EqualTo(new[] { "read", "approve" }));
        Assert.That(key.Details.ExpiresAt, Is.EqualTo(key.Details.CreatedAt.AddDays(30)));

        var listed = (await acmeAdmin.GetFromJsonAsync<List<KeyView>>("/keys"))!;
        Assert.That(listed.Select(k => k.TenantId).Distinct(), Is.EqualTo(new[] { "acme" }), "another tenant's keys are not listed");
        using (var other = await acmeAdmin.DeleteAsync($"/keys/{globexId}"))
        {
            Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "another tenant's key cannot be revoked");
        }

        using (var revoked = await acmeAdmin.DeleteAsync($"/keys/{key.Details.Id}"))
        {
            Assert.That(revoked.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        using (var notAdmin = await With(globexKey).GetAsync("/keys"))
        {
            Assert.That(notAdmin.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await notAdmin.Content.ReadAsStringAsync(), Does.Contain("lacks the role 'admin'"));
        }

        var trail = await Eventually.Until(async () => (await acmeAdmin.GetFromJsonAsync<AuditTrail>("/audit"))!.Entries is { Count: 2 } entries ? entries : null, "the two key changes in the audit trail");
        Assert.That(trail.Select(e => (e.Action, e.Target, e.Source)), Is.EqualTo(new[]
        {
            ("key.revoked", (string?)key.Details.Id, "127.0.0.1"), ("key.created", key.Details.Id, "127.0.0.1"),
        }));
        Assert.That(trail.Select(e => e.Actor).Distinct().Single(), Does.StartWith("root (key "));
        Assert.That(trail[1].Detail, Does.Contain("'support desk' with roles read,approve"));
        using var globexAdmin = With(await CreateKeyAsync("globex", [GatewayRoles.Admin], "globex-root"));
        Assert.That((await globexAdmin.GetFromJsonAsync<AuditTrail>("/audit"))!.Entries, Is.Empty, "another tenant's audit trail is its own");
    }

    [Test]
    public async Task Should_refuse_to_serve_without_authentication_on_an_address_that_is_not_loopback()
    {
        using var error = new StringWriter();

        var exit = await Commands.ServeAsync(TestAgents.RepositoryAgentsFolder(), "http://0.0.0.0:0", verbose: false, noAuth: true, error, CancellationToken.None);

        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error.ToString(), Does.Contain("The Gateway refuses to start: authentication is off").And.Contain("http://0.0.0.0:0, which is not loopback"));
    }

    [Test]
    public async Task Should_refuse_to_start_a_gateway_without_authentication_bound_beyond_loopback()
    {
        var settings = StoreSettings;
        settings["Gateway:AuthDisabled"] = "true";
        await using var app = Commands.BuildServer(TestAgents.RepositoryAgentsFolder(), "http://0.0.0.0:0", verbose: false, settings);

        var refused = Assert.ThrowsAsync<GatewayConfigurationException>(() => app.StartAsync());

        Assert.That(refused!.Message, Does.Contain("authentication is off").And.Contain("which is not loopback"));
    }

    [Test]
    public async Task Should_serve_the_default_tenant_without_a_credential_on_loopback_when_told_to()
    {
        var settings = StoreSettings;
        settings["Gateway:AuthDisabled"] = "true";
        await using var app = Commands.BuildServer(TestAgents.RepositoryAgentsFolder(), "http://127.0.0.1:0", verbose: false, settings);
        await app.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = LocalHttpServer.BaseAddressOf(app) };

        using var started = await anonymous.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 + 3?" });
        Assert.That(started.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var runId = (await started.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        var run = await Eventually.RunAsync(anonymous, runId, _ => true, "the run to be recorded");
        Assert.That(run.TenantId, Is.EqualTo(ServiceDefaults.Extensions.DefaultTenant));
        await app.StopAsync();
    }

    [TestCase("Gateway:Jwt:Issuer", "https://login.example.com", "Gateway:Jwt:Audience is empty")]
    [TestCase("Gateway:PerKey:Burst", "0", "Gateway:PerKey needs Burst and PerSecond of at least 1")]
    [TestCase("Gateway:PerWebhook:PerSecond", "0", "Gateway:PerWebhook needs Burst and PerSecond of at least 1")]
    [TestCase("Gateway:MaxRequestBodyBytes", "10", "Gateway:MaxRequestBodyBytes is 10: it must be at least 1024.")]
    public void Should_refuse_settings_it_cannot_work_with(string setting, string value, string problem)
    {
        var settings = StoreSettings;
        settings[setting] = value;

        var refused = Assert.Throws<GatewayConfigurationException>(() => Commands.BuildServer(TestAgents.RepositoryAgentsFolder(), "http://127.0.0.1:0", verbose: false, settings));

        Assert.That(refused!.Message, Does.Contain(problem));
    }

    [Test]
    public async Task Should_refuse_a_body_that_names_another_tenant_and_ignore_a_tenant_header()
    {
        using var acme = With(await CreateKeyAsync("acme", [GatewayRoles.Submit, GatewayRoles.Read]));

        using var otherTenant = await acme.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 2 + 3?", tenantId = "globex" });
        Assert.That(otherTenant.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await otherTenant.Content.ReadAsStringAsync(), Does.Contain("Your credential acts for tenant 'acme'; the body names tenant 'globex'."));

        using var forged = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = JsonContent.Create(new { agent = "assistant", goal = "What is 2 + 3?" }) };
        forged.Headers.Add("X-Tenant-Id", "globex");
        using var started = await acme.SendAsync(forged);
        var runId = (await started.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        var run = await Eventually.RunAsync(acme, runId, _ => true, "the run to be recorded");
        Assert.That(run.TenantId, Is.EqualTo("acme"));
    }
}
