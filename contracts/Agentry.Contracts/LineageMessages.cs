using System.Text.Json.Serialization;

namespace Agentry.Contracts;

/// <summary>How a run came from another (docs/durability.md, "Fork and replay").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LineageKind>))]
public enum LineageKind
{
    /// <summary>A new run that goes on from a step of its parent's transcript: it plans the step after it.</summary>
    Fork,

    /// <summary>The parent's decisions made again, step by step, against its recorded tool results; no tool runs.</summary>
    Replay,
}

/// <summary>The run a fork or a replay came from, and how it was started: carried by GoalReceived and ContextRequested
/// and kept with the new run (RunView.Lineage).</summary>
/// <param name="ParentRunId">The run it came from.</param>
/// <param name="Kind">Fork or replay.</param>
/// <param name="FromStep">A fork: the last of the parent's steps it starts from, so that it plans step FromStep + 1; a replay: 0.</param>
/// <param name="AgentHash">The SHA-256 of the definition the new run is pinned to (the parent's, the current one, or a copy
/// of either naming the model asked for), already in the definition store; null: the agent's current definition.</param>
/// <param name="Model">The model asked for instead of the definition's ([provider:]name); null when none was.</param>
/// <param name="Guidance">A person's guidance, given to a fork after FromStep as on a resume; null when none.</param>
public sealed record RunLineage(
    Guid ParentRunId,
    LineageKind Kind,
    int FromStep,
    string? AgentHash = null,
    string? Model = null,
    Guidance? Guidance = null);

/// <summary>A fork or a replay of a run, as its parent's view lists them.</summary>
/// <param name="RunId">The fork or replay.</param>
/// <param name="Kind">Fork or replay.</param>
/// <param name="FromStep">The parent's step it started from (0 for a replay).</param>
public sealed record RunChild(Guid RunId, LineageKind Kind, int FromStep);
