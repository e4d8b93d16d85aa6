using Agentry.Gateway.Stores.Mongo;
using Agentry.Gateway.Stores.Sqlite;
using Agentry.Gateway.Triggers.Webhooks;
using Agentry.Tests.Memory.Stores;
using MongoDB.Driver;

namespace Agentry.Tests.Gateway.Webhooks;

/// The inbox contract: every backend (SQLite always, MongoDB where one is reachable, else reported
/// NOT RUN) records a verified delivery once per agent, trigger and delivery id, counts its
/// duplicates, keeps refusals before verification out of that, and lists per tenant.
[TestFixture("sqlite")]
[TestFixture("mongodb")]
public sealed class When_the_inbox_keeps_webhook_deliveries(string backend)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset At = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private IWebhookInbox? _inbox;
    private string? _notRun;
    private Func<Task> _dispose = () => Task.CompletedTask;

    private IWebhookInbox Inbox => _inbox ?? throw new IgnoreException(_notRun ?? "the inbox was not opened");

    [OneTimeSetUp]
    public async Task Open()
    {
        if (backend == "sqlite")
        {
            var folder = new TempFolder();
            _inbox = new SqliteWebhookInbox(folder.SqliteConnectionString);
            _dispose = () =>
            {
                folder.Dispose();
                return Task.CompletedTask;
            };
            return;
        }

        // The memory store suite's MongoDB, found and reported the same way.
        if (MongoBackend.Uri is not { } uri)
        {
            _notRun = "MONGODB CONTRACT SUITE DID NOT RUN: no MongoDB reachable (set MONGODB_URI, or AGENTRY_TESTCONTAINERS=1 with a Docker engine). Only the SQLite webhook inbox was tested.";
            NotRun.Report(_notRun);
            return;
        }

        var settings = MongoClientSettings.FromConnectionString(uri);
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(5);
        var client = new MongoClient(settings);
        var database = client.GetDatabase($"agentry_test_{Guid.NewGuid():N}");
        try
        {
            await database.RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1));
        }
        catch (Exception e) when (e is MongoException or TimeoutException)
        {
            client.Dispose();
            _notRun = $"MONGODB CONTRACT SUITE DID NOT RUN: no MongoDB answers at {string.Join(",", settings.Servers)} (MONGODB_URI) within 5 s ({e.GetType().Name})";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(_notRun);
            }

            NotRun.Report(_notRun);
            return;
        }

        _inbox = new MongoWebhookInbox(database);
        _dispose = async () =>
        {
            await client.DropDatabaseAsync(database.DatabaseNamespace.DatabaseName);
            client.Dispose();
        };
    }

    [OneTimeTearDown]
    public Task Close() => _dispose();

    private static WebhookDelivery Delivery(string deliveryId, string tenant = "acme", string agent = "reviewer", string trigger = "pull-request", int minute = 0) =>
        new(Guid.NewGuid(), tenant, agent, trigger, "github", deliveryId, At.AddMinutes(minute),
            new Dictionary<string, string> { ["X-GitHub-Delivery"] = deliveryId, ["X-GitHub-Event"] = "pull_request" }, """{"action":"opened"}""", WebhookDeliveryState.Received);

    [Test]
    public async Task Should_record_a_delivery_once_and_count_its_duplicates()
    {
        var id = Guid.NewGuid().ToString();
        var first = Delivery(id);

        var (recorded, isNew) = await Inbox.ReceiveAsync(first, None);
        var (again, againNew) = await Inbox.ReceiveAsync(Delivery(id), None);
        var (third, thirdNew) = await Inbox.ReceiveAsync(Delivery(id), None);

        Assert.That((isNew, againNew, thirdNew), Is.EqualTo((true, false, false)));
        Assert.That((again.Id, third.Id, third.Duplicates), Is.EqualTo((first.Id, first.Id, 2)));
        var found = await Inbox.FindAsync(first.Id, None);
        Assert.That(found! with { Headers = first.Headers }, Is.EqualTo(first with { Duplicates = 2 }));
        Assert.That(found.Headers, Is.EquivalentTo(first.Headers));
        Assert.That(found.Headers["x-github-event"], Is.EqualTo("pull_request"), "header names are case-insensitive");
    }

    [Test]
    public async Task Should_take_one_of_many_concurrent_deliveries_of_one_id()
    {
        var id = Guid.NewGuid().ToString();

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Inbox.ReceiveAsync(Delivery(id), None)));

        Assert.That(results.Count(r => r.New), Is.EqualTo(1));
        var kept = results.Single(r => r.New).Delivery;
        Assert.That(results.Select(r => r.Delivery.Id).Distinct(), Is.EqualTo(new[] { kept.Id }));
        Assert.That((await Inbox.FindAsync(kept.Id, None))!.Duplicates, Is.EqualTo(11));
    }

    [Test]
    public async Task Should_keep_the_same_delivery_id_of_another_trigger_apart()
    {
        var id = Guid.NewGuid().ToString();

        var (_, one) = await Inbox.ReceiveAsync(Delivery(id), None);
        var (_, other) = await Inbox.ReceiveAsync(Delivery(id, trigger: "ticket"), None);
        var (_, otherAgent) = await Inbox.ReceiveAsync(Delivery(id, agent: "triage"), None);

        Assert.That((one, other, otherAgent), Is.EqualTo((true, true, true)));
    }

    [Test]
    public async Task Should_keep_unverified_refusals_out_of_deduplication_and_without_their_body()
    {
        var id = Guid.NewGuid().ToString();
        var forged = Delivery(id) with { State = WebhookDeliveryState.Unverified, Reason = "not signed" };

        await Inbox.RecordUnverifiedAsync(forged, None);
        await Inbox.RecordUnverifiedAsync(Delivery(id) with { Reason = "not signed" }, None);
        var (_, isNew) = await Inbox.ReceiveAsync(Delivery(id), None);

        Assert.That(isNew, Is.True, "a forged delivery claims no id");
        var kept = await Inbox.FindAsync(forged.Id, None);
        Assert.That((kept!.State, kept.Body, kept.Reason), Is.EqualTo((WebhookDeliveryState.Unverified, (string?)null, "not signed")));
        Assert.That(await Inbox.ReopenAsync(forged.Id, [WebhookDeliveryState.Unverified], None), Is.False, "an unverified delivery is never reopened");
    }

    [Test]
    public async Task Should_settle_a_delivery_and_reopen_it_only_from_the_states_given()
    {
        var delivery = Delivery(Guid.NewGuid().ToString());
        await Inbox.ReceiveAsync(delivery, None);
        var run = Guid.NewGuid();

        await Inbox.SettleAsync(delivery.Id, WebhookDeliveryState.Refused, null, "no value at 'x'", At.AddSeconds(1), None);
        var refused = await Inbox.FindAsync(delivery.Id, None);
        var notFromFiltered = await Inbox.ReopenAsync(delivery.Id, [WebhookDeliveryState.Filtered], None);
        var reopened = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Inbox.ReopenAsync(delivery.Id, [WebhookDeliveryState.Refused, WebhookDeliveryState.Failed], None)));
        var received = await Inbox.FindAsync(delivery.Id, None);
        await Inbox.SettleAsync(delivery.Id, WebhookDeliveryState.Started, run, null, At.AddSeconds(2), None);
        var started = await Inbox.FindAsync(delivery.Id, None);

        Assert.That((refused!.State, refused.Reason, refused.SettledAt), Is.EqualTo((WebhookDeliveryState.Refused, "no value at 'x'", (DateTimeOffset?)At.AddSeconds(1))));
        Assert.That(notFromFiltered, Is.False);
        Assert.That(reopened.Count(r => r), Is.EqualTo(1), "of concurrent reopens, one wins");
        Assert.That((received!.State, received.SettledAt), Is.EqualTo((WebhookDeliveryState.Received, (DateTimeOffset?)null)));
        Assert.That((started!.State, started.RunId, started.Reason, started.SettledAt), Is.EqualTo((WebhookDeliveryState.Started, (Guid?)run, (string?)null, (DateTimeOffset?)At.AddSeconds(2))));
        Assert.That(await Inbox.ReopenAsync(delivery.Id, [WebhookDeliveryState.Refused], None), Is.False);
    }

    [Test]
    public async Task Should_list_a_tenants_deliveries_newest_first_by_agent_and_trigger_within_the_limit()
    {
        var tenant = $"t-{Guid.NewGuid():N}";
        var oldest = Delivery("a", tenant, minute: 1);
        var ticket = Delivery("b", tenant, trigger: "ticket", minute: 2);
        var triage = Delivery("c", tenant, agent: "triage", minute: 3);
        var refused = Delivery("d", tenant, minute: 4) with { Reason = "not signed" };
        await Inbox.ReceiveAsync(oldest, None);
        await Inbox.ReceiveAsync(ticket, None);
        await Inbox.ReceiveAsync(triage, None);
        await Inbox.RecordUnverifiedAsync(refused, None);
        await Inbox.ReceiveAsync(Delivery("e", "another-tenant", minute: 5), None);

        async Task<string[]> Listed(string? agent, string? trigger, int limit = 100) =>
            [.. (await Inbox.ListAsync(tenant, agent, trigger, limit, None)).Select(d => d.DeliveryId)];

        Assert.That(await Listed(null, null), Is.EqualTo(new[] { "d", "c", "b", "a" }));
        Assert.That(await Listed("reviewer", null), Is.EqualTo(new[] { "d", "b", "a" }));
        Assert.That(await Listed("reviewer", "pull-request"), Is.EqualTo(new[] { "d", "a" }));
        Assert.That(await Listed(null, null, limit: 2), Is.EqualTo(new[] { "d", "c" }));
        Assert.That(await Inbox.ListAsync("nobody", null, null, 10, None), Is.Empty);
    }
}
