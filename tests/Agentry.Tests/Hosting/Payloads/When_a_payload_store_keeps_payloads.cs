using System.Text;
using Agentry.ServiceDefaults.Payloads;
using Agentry.Tests.Memory.Stores;

namespace Agentry.Tests.Hosting.Payloads;

/// One contract for every place payloads are kept (docs/durability.md): the embedded file store, Redis,
/// and MongoDB's GridFS (reported NOT RUN where no MongoDB is reachable, like the other Mongo suites).
[TestFixture("file")]
[TestFixture("redis")]
[TestFixture("mongodb")]
public sealed class When_a_payload_store_keeps_payloads(string backend)
{
    private TempFolder? _folder;
    private TestRedis? _redis;
    private Func<Task> _drop = () => Task.CompletedTask;
    private IPayloadStore _store = null!;

    [SetUp]
    public async Task Open()
    {
        switch (backend)
        {
            case "file":
                _folder = new TempFolder();
                _store = new FilePayloadStore(_folder.File("payloads"));
                break;
            case "redis":
                _redis = await TestRedis.ConnectAsync();
                _store = new RedisPayloadStore(_redis.Multiplexer, _redis.NewKeyPrefix(), TimeSpan.FromMinutes(5));
                break;
            default:
                var (database, drop, notRun) = await MongoBackend.OpenDatabaseAsync("The payload store contract ran on the file store and Redis only.");
                if (database is null)
                {
                    Assert.Ignore(notRun ?? "no MongoDB");
                }

                _drop = drop;
                _store = new MongoPayloadStore(database!);
                break;
        }
    }

    [TearDown]
    public async Task Close()
    {
        _folder?.Dispose();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        await _drop();
    }

    private static (string Id, byte[] Content) Payload(int size, char fill = 'x')
    {
        var content = Encoding.UTF8.GetBytes($"{Guid.NewGuid():N}{new string(fill, size - 32)}");
        return (PayloadIds.Of(content), content);
    }

    [Test]
    public async Task Should_write_the_same_content_once_and_read_it_back_whole()
    {
        var (id, content) = Payload(300_000);

        Assert.That(await _store.PutAsync(id, content, PayloadStore.TextMediaType, CancellationToken.None), Is.True, "the first put writes");
        Assert.That(await _store.PutAsync(id, content, PayloadStore.TextMediaType, CancellationToken.None), Is.False, "a redelivered put finds it there");
        Assert.That(await _store.GetAsync(id, null, CancellationToken.None), Is.EqualTo(content));
    }

    [Test]
    public async Task Should_read_only_the_beginning_when_asked_for_a_prefix()
    {
        var (id, content) = Payload(200_000);
        await _store.PutAsync(id, content, PayloadStore.TextMediaType, CancellationToken.None);

        var prefix = await _store.GetAsync(id, 1000, CancellationToken.None);

        Assert.That(prefix, Is.EqualTo(content[..1000]));
    }

    [Test]
    public async Task Should_answer_null_for_content_it_does_not_have()
    {
        var (id, _) = Payload(100);

        Assert.That(await _store.GetAsync(id, null, CancellationToken.None), Is.Null);
    }

    [Test]
    public void Should_refuse_an_id_that_is_not_a_content_hash()
    {
        // Ids become file names and keys: nothing but a hash may pass.
        var error = Assert.ThrowsAsync<ArgumentException>(() => _store.GetAsync("sha256:../../etc/passwd", null, CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("is not a payload id"));
    }
}
