using Agentry.Agents;
using Agentry.Agents.Pinning;

namespace Agentry.Tests.Agents.Pinning;

/// PinnedAgents: the catalog's agent while the hash matches, the stored text otherwise.
public sealed class When_a_run_resolves_its_pinned_definition
{
    private const string VersionOne = "description: One\ninstructions: Version one.\ntools: [calculator]\nlimits: { max_steps: 4 }\n";
    private const string VersionTwo = "description: Two\ninstructions: Version two.\ntools: [current_time]\nlimits: { max_steps: 2 }\n";

    /// Counts the reads, so that the common path is seen to read nothing.
    private sealed class CountingStore : IAgentDefinitionStore
    {
        private readonly InMemoryAgentDefinitionStore _inner = new();

        public int Reads { get; private set; }

        public int Writes { get; private set; }

        public Task KeepAsync(string hash, string text, CancellationToken cancellationToken)
        {
            Writes++;
            return _inner.KeepAsync(hash, text, cancellationToken);
        }

        public Task<string?> FindAsync(string hash, CancellationToken cancellationToken)
        {
            Reads++;
            return _inner.FindAsync(hash, cancellationToken);
        }
    }

    private CountingStore _store = null!;

    [SetUp]
    public void NewStore() => _store = new CountingStore();

    private PinnedAgents Pinned(string yaml) => new(TestAgents.Catalog(TestAgents.Parse("adder", yaml)), _store, ShippedTools.Catalog);

    [Test]
    public void Should_hash_the_same_text_with_either_line_ending_alike()
    {
        var lf = AgentDefinitionHash.Of(VersionOne);

        Assert.That(AgentDefinitionHash.Of(VersionOne.Replace("\n", "\r\n", StringComparison.Ordinal)), Is.EqualTo(lf));
        Assert.That(AgentDefinitionHash.Of(VersionTwo), Is.Not.EqualTo(lf));
        Assert.That(TestAgents.Parse("adder", VersionOne.Replace("\n", "\r\n", StringComparison.Ordinal)).Hash, Is.EqualTo(lf), "the loader pins the normalised text");
        Assert.That(AgentDefinitionHash.IsWellFormed(lf), Is.True);
    }

    [Test]
    public async Task Should_serve_the_catalogs_agent_without_reading_the_store_while_the_hash_matches()
    {
        var pinned = Pinned(VersionOne);

        var agent = await pinned.FindAsync("adder", AgentDefinitionHash.Of(VersionOne), CancellationToken.None);
        var unpinned = await pinned.FindAsync("adder", null, CancellationToken.None);

        Assert.That(agent, Is.SameAs(pinned.Catalog.Find("adder")));
        Assert.That(unpinned, Is.SameAs(agent), "a message without a hash gets the current definition");
        Assert.That(_store.Reads, Is.Zero);
    }

    [Test]
    public async Task Should_serve_another_version_from_the_store_parsed_once()
    {
        var pinned = Pinned(VersionTwo);
        await _store.KeepAsync(AgentDefinitionHash.Of(VersionOne), VersionOne, CancellationToken.None);

        var first = await pinned.GetAsync("adder", AgentDefinitionHash.Of(VersionOne), CancellationToken.None);
        var again = await pinned.GetAsync("adder", AgentDefinitionHash.Of(VersionOne), CancellationToken.None);

        Assert.That((first.Instructions, first.Limits.MaxSteps, first.MayUse("calculator"), first.MayUse("current_time")), Is.EqualTo(("Version one.", 4, true, false)));
        Assert.That(again, Is.SameAs(first));
        Assert.That(_store.Reads, Is.EqualTo(1), "cached by hash");
    }

    [Test]
    public void Should_end_with_a_reason_when_the_store_does_not_have_the_hash()
    {
        var pinned = Pinned(VersionTwo);

        var e = Assert.ThrowsAsync<PinnedDefinitionException>(async () => await pinned.GetAsync("adder", AgentDefinitionHash.Of(VersionOne), CancellationToken.None));

        Assert.That(e!.Message, Does.Contain($"pinned to definition {AgentDefinitionHash.Of(VersionOne)[..12]}, which is not the current one and is not in the definition store"));
    }

    [Test]
    public async Task Should_end_with_a_reason_when_the_pinned_text_no_longer_loads()
    {
        var pinned = Pinned(VersionTwo);
        const string gone = "instructions: Old.\ntools: [teleport]\n";
        await _store.KeepAsync(AgentDefinitionHash.Of(gone), gone, CancellationToken.None);

        var e = Assert.ThrowsAsync<PinnedDefinitionException>(async () => await pinned.GetAsync("adder", AgentDefinitionHash.Of(gone), CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("no longer loads in this service").And.Contain("unknown tool 'teleport'"));
    }

    [Test]
    public async Task Should_keep_a_definition_once_per_hash_and_never_one_built_in_code()
    {
        var pinned = Pinned(VersionOne);
        var agent = pinned.Catalog.Find("adder")!;

        await pinned.KeepAsync(agent, CancellationToken.None);
        await pinned.KeepAsync(agent, CancellationToken.None);
        await pinned.KeepAsync(agent with { Text = null, Hash = null }, CancellationToken.None);

        Assert.That(_store.Writes, Is.EqualTo(1));
        Assert.That(await _store.FindAsync(AgentDefinitionHash.Of(VersionOne), CancellationToken.None), Is.EqualTo(VersionOne));
    }

    [Test]
    public async Task Should_keep_the_text_in_redis_for_every_service_with_its_retention()
    {
        await using var redis = await TestRedis.ConnectAsync();
        var prefix = redis.NewKeyPrefix();
        var store = new RedisAgentDefinitionStore(redis.Multiplexer, TimeSpan.FromDays(30), prefix);
        var hash = AgentDefinitionHash.Of(VersionOne);

        await store.KeepAsync(hash, VersionOne, CancellationToken.None);
        var read = await new RedisAgentDefinitionStore(await TestRedis.ConnectAnotherAsync(), TimeSpan.FromDays(30), prefix).FindAsync(hash, CancellationToken.None);

        Assert.That(read, Is.EqualTo(VersionOne), "what another process reads");
        Assert.That(await redis.Database.KeyTimeToLiveAsync(prefix + hash), Is.GreaterThan(TimeSpan.FromDays(29)));
        Assert.That(await store.FindAsync(AgentDefinitionHash.Of(VersionTwo), CancellationToken.None), Is.Null);
    }
}
