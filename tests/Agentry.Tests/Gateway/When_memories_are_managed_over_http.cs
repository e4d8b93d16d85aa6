using System.Net;
using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Memory;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Gateway;

/// GET and DELETE /users/{userId}/memories over real Kestrel: the Gateway asks Memory over the bus,
/// and the tenant of the caller's key bounds what they see and delete.
public sealed class When_memories_are_managed_over_http : AgentryServerFixture
{
    private static readonly DateTimeOffset At = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);

    private IMemoryItemStore Store => App.Services.GetRequiredService<IMemoryItemStore>();

    private async Task<MemoryItem> Keep(string tenant, string user, string text, int minute = 0)
    {
        var item = new MemoryItem(Guid.NewGuid(), tenant, user, text, MemoryKind.Fact, null, At.AddMinutes(minute));
        await Store.AddItemAsync(item, CancellationToken.None);
        return item;
    }

    private readonly Dictionary<string, HttpClient> _clients = [];

    /// A request as a holder of a key of the tenant (the default tenant's key when null).
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? tenant)
    {
        if (tenant is not null && !_clients.ContainsKey(tenant))
        {
            _clients[tenant] = await ClientAsync(tenant, [Agentry.Gateway.Security.GatewayRoles.Manage]);
        }

        return await (tenant is null ? Http : _clients[tenant]).SendAsync(new HttpRequestMessage(method, path));
    }

    [TearDown]
    public void ForgetClients() => _clients.Clear();

    private async Task<List<MemoryItemView>> List(string user, string? tenant)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/users/{user}/memories", tenant);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return (await response.Content.ReadFromJsonAsync<List<MemoryItemView>>())!;
    }

    [Test]
    public async Task Should_list_a_users_memories_to_their_tenant_only()
    {
        var first = await Keep("acme", "ada", "Lives in Lyon.");
        var second = await Keep("acme", "ada", "Works on compilers.", minute: 1);
        await Keep("globex", "ada", "Globex's Ada, another person.");
        await Keep("default", "bob", "Bob, in the default tenant.");

        Assert.That((await List("ada", "acme")).Select(i => (i.Id, i.Text, i.Kind)), Is.EqualTo(new[]
        {
            (first.Id, "Lives in Lyon.", MemoryItemKind.Fact), (second.Id, "Works on compilers.", MemoryItemKind.Fact),
        }));
        Assert.That((await List("ada", "initech")), Is.Empty);
        Assert.That((await List("bob", tenant: null)).Single().Text, Is.EqualTo("Bob, in the default tenant."), "the default tenant's key");
    }

    [Test]
    public async Task Should_delete_one_memory_and_answer_404_for_one_it_does_not_have()
    {
        var item = await Keep("acme", "ada", "Lives in Lyon.");
        var kept = await Keep("acme", "ada", "Works on compilers.", minute: 1);

        using var otherTenant = await SendAsync(HttpMethod.Delete, $"/users/ada/memories/{item.Id}", "globex");
        using var deleted = await SendAsync(HttpMethod.Delete, $"/users/ada/memories/{item.Id}", "acme");
        using var again = await SendAsync(HttpMethod.Delete, $"/users/ada/memories/{item.Id}", "acme");
        using var otherUser = await SendAsync(HttpMethod.Delete, $"/users/bob/memories/{kept.Id}", "acme");

        Assert.That(otherTenant.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await again.Content.ReadAsStringAsync(), Does.Contain($"User 'ada' has no memory {item.Id}."));
        Assert.That(otherUser.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await Store.ListItemsAsync("acme", "ada", CancellationToken.None)).Select(i => i.Id), Is.EqualTo(new[] { kept.Id }));
    }

    [Test]
    public async Task Should_delete_all_of_a_users_memories_in_the_tenant_and_nothing_else()
    {
        await Keep("acme", "ada", "Lives in Lyon.");
        await Keep("acme", "ada", "Works on compilers.", minute: 1);
        await Keep("acme", "bob", "Bob's.");
        await Keep("globex", "ada", "Globex's Ada.");

        using var response = await SendAsync(HttpMethod.Delete, "/users/ada/memories", "acme");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await response.Content.ReadFromJsonAsync<ForgetResponse>())!.Deleted, Is.EqualTo(2));
        Assert.That(await Store.ListItemsAsync("acme", "ada", CancellationToken.None), Is.Empty);
        Assert.That(await Store.ListItemsAsync("acme", "bob", CancellationToken.None), Has.Count.EqualTo(1));
        Assert.That(await Store.ListItemsAsync("globex", "ada", CancellationToken.None), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_record_the_user_a_run_is_started_for()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "What is 6 * 7?", userId = "ada" });
        var started = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!;

        // Memory records the start on its own queue: ask until it has.
        RunView? run = null;
        for (var attempt = 0; attempt < 100 && run?.UserId is null; attempt++)
        {
            using var get = await Http.GetAsync($"/runs/{started.RunId}");
            run = get.IsSuccessStatusCode ? await get.Content.ReadFromJsonAsync<RunView>() : null;
            await Task.Delay(50);
        }

        Assert.That(run?.UserId, Is.EqualTo("ada"));
    }

    [Test]
    public async Task Should_refuse_a_user_id_of_spaces()
    {
        using var run = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal = "hello", userId = " " });
        using var list = await Http.GetAsync("/users/%20/memories");

        Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await run.Content.ReadAsStringAsync(), Does.Contain("The user id is empty"));
        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }
}
