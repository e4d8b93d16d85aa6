using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Schedules;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Agentry.Tests.Gateway.Schedules;

/// The parts a scheduler test needs: a movable clock, a bus that records what is published, and
/// the real store (Redis under a key prefix of the test's own, or a SQLite file of its own). Each
/// scheduler it makes has a store of its own over the same data (a connection of its own, for
/// Redis), as another replica or the same one after a restart would.
public sealed class ScheduleBench : IAsyncDisposable
{
    private static readonly CancellationToken OnlyWhatIsThere = new(canceled: true);

    private readonly string _store;
    private readonly string _keyPrefix = $"agentry-test:{Guid.NewGuid():N}:";
    private readonly TempFolder _folder = new();
    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly ServiceProvider _provider;

    private ScheduleBench(string store, AgentCatalog agents, ScheduleOptions options, ServiceProvider provider, ITestHarness harness)
    {
        _store = store;
        Agents = agents;
        Options = options;
        _provider = provider;
        Harness = harness;
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, 500, TimeSpan.Zero));

    public AgentCatalog Agents { get; }

    public ScheduleOptions Options { get; }

    public ITestHarness Harness { get; }

    public static async Task<ScheduleBench> StartAsync(string store, AgentCatalog agents, ScheduleOptions? options = null)
    {
        if (store == "redis")
        {
            TestServers.RequireRedis();
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMassTransitTestHarness();
        var provider = services.BuildServiceProvider();
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var bench = new ScheduleBench(store, agents, options ?? new ScheduleOptions(), provider, harness);
        bench.Options.KeyPrefix = bench._keyPrefix;
        return bench;
    }

    /// A scheduler of its own: another replica, or this one restarted.
    public async Task<Scheduler> NewSchedulerAsync() =>
        new(Agents, new TriggeredRuns(Agents, Microsoft.Extensions.Options.Options.Create(new GoalBounds())), await NewStoreAsync(), Harness.Bus, Clock,
            Microsoft.Extensions.Options.Options.Create(Options), NullLogger<Scheduler>.Instance);

    public async Task<IScheduleStore> NewStoreAsync()
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        if (_store == "sqlite")
        {
            return new SqliteScheduleStore(_folder.SqliteConnectionString, options);
        }

        var connection = await TestRedis.ConnectAnotherAsync();
        _connections.Add(connection);
        return new RedisScheduleStore(connection, options);
    }

    /// The goals published so far.
    public IReadOnlyList<GoalReceived> Published =>
        [.. Harness.Published.Select<GoalReceived>(OnlyWhatIsThere).Select(m => m.Context.Message)];

    /// Polls with every scheduler at once, as replicas do.
    public static Task PollAsync(params Scheduler[] schedulers) =>
        Task.WhenAll(schedulers.Select(s => s.PollAsync(CancellationToken.None)));

    /// Moves the clock by `step` until `until`, polling with every scheduler at each step.
    public async Task RunUntilAsync(DateTimeOffset until, TimeSpan step, params Scheduler[] schedulers)
    {
        while (Clock.GetUtcNow() + step <= until)
        {
            Clock.Advance(step);
            await PollAsync(schedulers);
        }
    }

    public static Guid RunIdOf(string agent, string trigger, DateTimeOffset due) =>
        TriggeredRuns.RunIdOf(agent, trigger, ScheduleFiring.Of(due));

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
        if (_connections.Count > 0)
        {
            foreach (var endpoint in _connections[0].GetEndPoints())
            {
                await foreach (var key in _connections[0].GetServer(endpoint).KeysAsync(pattern: _keyPrefix + "*"))
                {
                    await _connections[0].GetDatabase().KeyDeleteAsync(key);
                }
            }
        }

        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        _folder.Dispose();
    }
}
