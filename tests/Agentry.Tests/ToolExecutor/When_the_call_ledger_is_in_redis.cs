using System.Text.Json;
using Agentry.Contracts;
using Agentry.ToolExecutor;
using Agentry.ToolExecutor.SubAgents;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Tests.ToolExecutor;

/// The ledger two ToolExecutor processes share: each ledger here stands for one process.
public sealed class When_the_call_ledger_is_in_redis
{
    private TestRedis _redis = null!;
    private string _prefix = null!;

    [SetUp]
    public async Task Connect()
    {
        _redis = await TestRedis.ConnectAsync();
        _prefix = _redis.NewKeyPrefix();
    }

    [TearDown]
    public async Task Disconnect() => await _redis.DisposeAsync();

    private RedisToolCallLedger Process(IConnectionMultiplexer? connection = null) =>
        new(connection ?? _redis.Multiplexer, Options.Create(new ToolLedgerOptions { KeyPrefix = _prefix, LivenessTimeout = TimeSpan.FromSeconds(5) }));

    private static ToolOutcome Outcome(string callId) =>
        new(callId, "http_post", JsonSerializer.SerializeToElement(new { url = "http://x/" }), "HTTP 200 OK", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(3));

    [Test]
    public async Task Should_let_one_process_claim_a_call_while_it_is_alive()
    {
        var first = Process();
        await using var otherConnection = await TestRedis.ConnectAnotherAsync();
        var second = Process(otherConnection);
        await first.RenewLivenessAsync();
        var runId = Guid.NewGuid();

        Assert.That(await first.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.Claimed));
        Assert.That(await second.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.RunningElsewhere));
        Assert.That(await first.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.RunningElsewhere), "a duplicate in the same process");
    }

    [Test]
    public async Task Should_report_a_call_whose_process_died_as_interrupted_and_never_hand_out_a_side_effect_again()
    {
        var killed = Process();
        await killed.RenewLivenessAsync();
        var runId = Guid.NewGuid();
        Assert.That(await killed.ClaimAsync(runId, "c1", takeOverInterrupted: false, CancellationToken.None), Is.EqualTo(CallClaim.Claimed));
        // kill -9: its liveness key is no longer renewed and expires.
        await _redis.Database.KeyDeleteAsync($"{_prefix}toolexecutor:alive:{killed.InstanceId}");

        var survivor = Process();
        Assert.That(await survivor.ClaimAsync(runId, "c1", takeOverInterrupted: false, CancellationToken.None), Is.EqualTo(CallClaim.Interrupted));
        Assert.That(await survivor.ClaimAsync(runId, "c1", takeOverInterrupted: false, CancellationToken.None), Is.EqualTo(CallClaim.Interrupted));
    }

    [Test]
    public async Task Should_let_a_survivor_repeat_an_interrupted_call_that_is_safe_to_repeat_once()
    {
        var killed = Process();
        var runId = Guid.NewGuid();
        Assert.That(await killed.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.Claimed));

        var survivor = Process();
        await survivor.RenewLivenessAsync();
        var another = Process();
        Assert.That(await survivor.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.Claimed));
        Assert.That(await another.ClaimAsync(runId, "c1", takeOverInterrupted: true, CancellationToken.None), Is.EqualTo(CallClaim.RunningElsewhere), "two survivors both took it over");
    }

    [Test]
    public async Task Should_share_recorded_outcomes_between_processes_and_keep_them_for_the_retention()
    {
        var runId = Guid.NewGuid();
        await Process().RecordAsync(runId, Outcome("c1"), CancellationToken.None);
        await using var otherConnection = await TestRedis.ConnectAnotherAsync();

        var found = await Process(otherConnection).FindAsync(runId, "c1", CancellationToken.None);

        Assert.That((found?.CallId, found?.Output, found?.ErrorKind), Is.EqualTo(("c1", "HTTP 200 OK", ToolErrorKind.None)));
        Assert.That(found!.Arguments.GetProperty("url").GetString(), Is.EqualTo("http://x/"));
        var ttl = await _redis.Database.KeyTimeToLiveAsync($"{_prefix}tools:{runId}:outcomes");
        Assert.That(ttl, Is.GreaterThan(TimeSpan.FromHours(23)).And.LessThanOrEqualTo(TimeSpan.FromDays(1)));
        Assert.That(await Process().FindAsync(runId, "c2", CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Should_count_calls_against_max_calls_once_per_call_id_across_processes()
    {
        var runId = Guid.NewGuid();
        await using var otherConnection = await TestRedis.ConnectAnotherAsync();
        var (first, second) = (Process(), Process(otherConnection));

        var counted = new List<bool>
        {
            await first.CountCallAsync(runId, "http_get", "c1", limit: 2, CancellationToken.None),
            await second.CountCallAsync(runId, "http_get", "c1", limit: 2, CancellationToken.None),
            await second.CountCallAsync(runId, "http_get", "c2", limit: 2, CancellationToken.None),
            await first.CountCallAsync(runId, "http_get", "c3", limit: 2, CancellationToken.None),
            await first.CountCallAsync(runId, "http_get", "c2", limit: 2, CancellationToken.None),
            await first.CountCallAsync(runId, "calculator", "c4", limit: 2, CancellationToken.None),
        };

        Assert.That(counted, Is.EqualTo(new[] { true, true, true, false, true, true }), "c1 and c2 use the allowance once however often they come; c3 is over it; another tool counts apart");
        Assert.That(await _redis.Database.KeyTimeToLiveAsync($"{_prefix}tools:{runId}:count:http_get"), Is.GreaterThan(TimeSpan.FromHours(23)));
    }

    [Test]
    public async Task Should_keep_sub_agent_runs_for_every_process_and_hand_an_ended_parents_children_to_one()
    {
        var options = Options.Create(new ToolLedgerOptions { KeyPrefix = _prefix });
        await using var otherConnection = await TestRedis.ConnectAnotherAsync();
        var (first, second) = (new RedisSubAgentRuns(_redis.Multiplexer, options), new RedisSubAgentRuns(otherConnection, options));
        var parent = Guid.NewGuid();
        SubAgentRun Child(string callId) => new(SubAgentCalls.ChildRunId(parent, callId), parent, "tenant-1", "lead", 2, 8, callId, "agent:leaf",
            JsonSerializer.SerializeToElement(new { goal = callId }), ["c1", "c2"], 1, DateTimeOffset.UnixEpoch);
        await first.AddAsync(Child("c1"), CancellationToken.None);
        await first.AddAsync(Child("c2"), CancellationToken.None);
        await first.AddAsync(Child("c2") with { Depth = 3 }, CancellationToken.None);

        var found = await second.FindAsync(SubAgentCalls.ChildRunId(parent, "c2"), CancellationToken.None);
        var taken = await second.TakeChildrenAsync(parent, CancellationToken.None);

        Assert.That((found?.CallId, found?.Depth, found?.StepCallIds), Is.EqualTo(("c2", 1, new[] { "c1", "c2" })), "the first record of a child stays");
        Assert.That(taken.Select(c => c.CallId).Order(), Is.EqualTo(new[] { "c1", "c2" }));
        Assert.That(await first.TakeChildrenAsync(parent, CancellationToken.None), Is.Empty, "the children were handed out twice");
        Assert.That(await first.FindAsync(SubAgentCalls.ChildRunId(parent, "c1"), CancellationToken.None), Is.Null);
    }
}
