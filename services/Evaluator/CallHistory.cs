using System.Collections.Concurrent;

namespace Agentry.Evaluator;

/// One tool call as loop detection sees it: what was called, with what, and what came back.
public sealed record CallFingerprint(int Step, string Tool, string Arguments, string Result);

/// The calls each run has made so far. Recording a step again replaces it, so a redelivered
/// ToolResult gives the same verdict. The in-memory store serves the embedded mode; a shared
/// store (Redis) replaces it when several Evaluators share the work.
public interface ICallHistory
{
    /// Records the step's calls and returns those of earlier steps.
    Task<IReadOnlyList<CallFingerprint>> RecordAsync(Guid runId, int step, IReadOnlyList<CallFingerprint> calls, CancellationToken cancellationToken);

    Task ForgetAsync(Guid runId, CancellationToken cancellationToken);
}

public sealed class InMemoryCallHistory : ICallHistory
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<int, IReadOnlyList<CallFingerprint>>> _runs = new();

    public Task<IReadOnlyList<CallFingerprint>> RecordAsync(Guid runId, int step, IReadOnlyList<CallFingerprint> calls, CancellationToken cancellationToken)
    {
        var steps = _runs.GetOrAdd(runId, _ => new());
        steps[step] = calls;
        IReadOnlyList<CallFingerprint> earlier = steps.Where(s => s.Key < step).OrderBy(s => s.Key).SelectMany(s => s.Value).ToList();
        return Task.FromResult(earlier);
    }

    public Task ForgetAsync(Guid runId, CancellationToken cancellationToken)
    {
        _runs.TryRemove(runId, out _);
        return Task.CompletedTask;
    }
}
