using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.ToolExecutor.SubAgents;

/// A child run started by a call of a parent's step: where its outcome goes when it ends (the
/// parent's run, step and call, and the step's calls in order, to assemble the step's ToolResult),
/// and how deep it is below its top-level run.
public sealed record SubAgentRun(
    Guid ChildRunId,
    Guid ParentRunId,
    string TenantId,
    string ParentAgent,
    int Step,
    int MaxSteps,
    string CallId,
    string Tool,
    JsonElement Arguments,
    IReadOnlyList<string> StepCallIds,
    int Depth,
    DateTimeOffset StartedAt);

/// The child runs being waited for: Redis in distributed mode (a child may end on another
/// ToolExecutor, after a restart), memory in the embedded one.
public interface ISubAgentRuns
{
    /// Records a child before its goal is published; recording the same child again is harmless.
    Task AddAsync(SubAgentRun run, CancellationToken cancellationToken);

    Task<SubAgentRun?> FindAsync(Guid childRunId, CancellationToken cancellationToken);

    /// The children of an ended parent, forgotten: a child that ends later finds no parent to report to.
    Task<IReadOnlyList<SubAgentRun>> TakeChildrenAsync(Guid parentRunId, CancellationToken cancellationToken);
}

public sealed class InMemorySubAgentRuns : ISubAgentRuns
{
    private readonly ConcurrentDictionary<Guid, SubAgentRun> _children = new();

    public Task AddAsync(SubAgentRun run, CancellationToken cancellationToken)
    {
        _children.TryAdd(run.ChildRunId, run);
        return Task.CompletedTask;
    }

    public Task<SubAgentRun?> FindAsync(Guid childRunId, CancellationToken cancellationToken) =>
        Task.FromResult(_children.GetValueOrDefault(childRunId));

    public Task<IReadOnlyList<SubAgentRun>> TakeChildrenAsync(Guid parentRunId, CancellationToken cancellationToken)
    {
        var taken = new List<SubAgentRun>();
        foreach (var child in _children.Values.Where(c => c.ParentRunId == parentRunId))
        {
            if (_children.TryRemove(child.ChildRunId, out var removed))
            {
                taken.Add(removed);
            }
        }

        return Task.FromResult<IReadOnlyList<SubAgentRun>>(taken);
    }
}

/// Each child under its own key, and a set of each parent's children; both expire with the call
/// ledger's retention, so a parent whose end was never seen does not leave them forever.
public sealed class RedisSubAgentRuns(IConnectionMultiplexer redis, IOptions<ToolLedgerOptions> options) : ISubAgentRuns
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IDatabase Database => redis.GetDatabase();

    public async Task AddAsync(SubAgentRun run, CancellationToken cancellationToken)
    {
        var retention = options.Value.Retention;
        await Database.StringSetAsync(ChildKey(run.ChildRunId), JsonSerializer.Serialize(run, Json), retention, When.NotExists);
        await Database.SetAddAsync(ChildrenKey(run.ParentRunId), run.ChildRunId.ToString("N"));
        await Database.KeyExpireAsync(ChildrenKey(run.ParentRunId), retention);
    }

    public async Task<SubAgentRun?> FindAsync(Guid childRunId, CancellationToken cancellationToken)
    {
        var json = await Database.StringGetAsync(ChildKey(childRunId));
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize<SubAgentRun>(json.ToString(), Json);
    }

    public async Task<IReadOnlyList<SubAgentRun>> TakeChildrenAsync(Guid parentRunId, CancellationToken cancellationToken)
    {
        var taken = new List<SubAgentRun>();
        foreach (var member in await Database.SetMembersAsync(ChildrenKey(parentRunId)))
        {
            var child = Guid.Parse(member.ToString());
            // GETDEL: of two ToolExecutors seeing the parent's end, one takes each child.
            var json = await Database.StringGetDeleteAsync(ChildKey(child));
            if (!json.IsNullOrEmpty)
            {
                taken.Add(JsonSerializer.Deserialize<SubAgentRun>(json.ToString(), Json)!);
            }
        }

        await Database.KeyDeleteAsync(ChildrenKey(parentRunId));
        return taken;
    }

    private RedisKey ChildKey(Guid child) => $"{options.Value.KeyPrefix}subagents:{child:N}";

    private RedisKey ChildrenKey(Guid parent) => $"{options.Value.KeyPrefix}subagents:{parent:N}:children";
}
