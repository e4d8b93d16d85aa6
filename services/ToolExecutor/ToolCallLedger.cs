using System.Collections.Concurrent;
using Agentry.Agents.Pinning;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tools;
using MassTransit;

namespace Agentry.ToolExecutor;

public enum CallClaim
{
    /// This process may run the call.
    Claimed,
    /// Another live process is running it: this delivery is a duplicate.
    RunningElsewhere,
    /// The process that claimed it stopped before recording an outcome.
    Interrupted,
}

/// Which tool calls ran and what they returned, so that a redelivered step (after a crash, or a
/// saga republishing it) reuses the outcomes instead of running the tools again, and a call with
/// side effects that was interrupted mid-way is never run twice.
public interface IToolCallLedger
{
    Task<ToolOutcome?> FindAsync(Guid runId, string callId, CancellationToken cancellationToken);

    /// Claims a call for this process. An interrupted claim is taken over when takeOverInterrupted
    /// (the tool is safe to repeat); otherwise Interrupted is returned and the claim left as it is.
    Task<CallClaim> ClaimAsync(Guid runId, string callId, bool takeOverInterrupted, CancellationToken cancellationToken);

    Task RecordAsync(Guid runId, ToolOutcome outcome, CancellationToken cancellationToken);

    /// Gives up this process's claim on a call it will not finish, so that it can be run again.
    Task ReleaseAsync(Guid runId, string callId, CancellationToken cancellationToken);

    /// Drops what is kept of an ended run.
    Task ForgetAsync(Guid runId, CancellationToken cancellationToken);

    /// Counts a call of the tool against the run's limit (a max_calls policy), once per call id:
    /// true when it is within the limit. A call counted before (a redelivered step) stays within
    /// it, so that a redelivery never uses up the allowance twice.
    Task<bool> CountCallAsync(Guid runId, string tool, string callId, int limit, CancellationToken cancellationToken);
}

/// The embedded mode's ledger: one process, so a claim is never held by a process that died.
public sealed class InMemoryToolCallLedger : IToolCallLedger
{
    private readonly ConcurrentDictionary<(Guid, string), ToolOutcome> _outcomes = new();
    private readonly ConcurrentDictionary<(Guid, string), bool> _claims = new();
    private readonly ConcurrentDictionary<(Guid, string), HashSet<string>> _counted = new();

    public Task<ToolOutcome?> FindAsync(Guid runId, string callId, CancellationToken cancellationToken) =>
        Task.FromResult(_outcomes.GetValueOrDefault((runId, callId)));

    public Task<CallClaim> ClaimAsync(Guid runId, string callId, bool takeOverInterrupted, CancellationToken cancellationToken) =>
        Task.FromResult(_claims.TryAdd((runId, callId), true) ? CallClaim.Claimed : CallClaim.RunningElsewhere);

    public Task RecordAsync(Guid runId, ToolOutcome outcome, CancellationToken cancellationToken)
    {
        _outcomes[(runId, outcome.CallId)] = outcome;
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(Guid runId, string callId, CancellationToken cancellationToken)
    {
        _claims.TryRemove((runId, callId), out _);
        return Task.CompletedTask;
    }

    public Task ForgetAsync(Guid runId, CancellationToken cancellationToken)
    {
        // Refusals and sub-agents' outcomes are recorded without a claim.
        foreach (var key in _claims.Keys.Concat(_outcomes.Keys).Where(k => k.Item1 == runId).ToList())
        {
            _claims.TryRemove(key, out _);
            _outcomes.TryRemove(key, out _);
        }

        foreach (var key in _counted.Keys.Where(k => k.Item1 == runId))
        {
            _counted.TryRemove(key, out _);
        }

        return Task.CompletedTask;
    }

    public Task<bool> CountCallAsync(Guid runId, string tool, string callId, int limit, CancellationToken cancellationToken)
    {
        var calls = _counted.GetOrAdd((runId, tool), _ => new HashSet<string>(StringComparer.Ordinal));
        lock (calls)
        {
            return Task.FromResult(calls.Contains(callId) || (calls.Count < limit && calls.Add(callId)));
        }
    }
}

/// Forgets an ended run's calls, and deletes its workspace but for the files its agent declared as
/// outputs (RunArtifacts), which go to Memory in a RunArtifactsKept. The workspace is on this
/// ToolExecutor's disk (docs/sandbox.md): with several replicas, Tools:Files:Root must be a volume
/// they share.
public sealed class RunEndedConsumer(IToolCallLedger ledger, IBus bus, RunArtifacts? artifacts = null, PinnedAgents? agents = null) : IConsumer<IRunEnded>
{
    // An escalated run waits for a person and may be resumed (decision 0021): its calls, its
    // max_calls counts and its workspace must outlive the escalation; the ledger's retention expires
    // the calls otherwise.
    public async Task Consume(ConsumeContext<IRunEnded> context)
    {
        if (context.HasMessageType(typeof(RunEscalated)))
        {
            return;
        }

        var run = context.Message;
        await ledger.ForgetAsync(run.RunId, context.CancellationToken);
        if (artifacts is null)
        {
            return;
        }

        var agent = agents is null ? null : await agents.FindAsync(run.Agent, run.AgentHash, context.CancellationToken);
        artifacts.EndRun(run.RunId, agent?.Sandbox.Outputs ?? []);
        if (artifacts.Collect(run.RunId, run.TenantId) is { } kept)
        {
            // Straight to the broker, not through this consume's outbox (which publishes only after
            // the consume returns): this host's copy is deleted only once the broker confirmed it has
            // the message. A redelivered run end before the deletion sends it again; Memory keeps the
            // first copy.
            await bus.Publish(kept, context.CancellationToken);
            artifacts.Forget(run.RunId);
        }
    }
}
