namespace Agentry.Contracts;

/// <summary>Move a run to its agent's current definition (published by the Gateway after its checks). The saga
/// re-pins the run at its next step boundary: the step in flight finishes on the definition it started with.</summary>
/// <param name="RunId">The run.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="ToHash">The SHA-256 of the definition to move to, as the operator was shown it; already in the definition store.</param>
/// <param name="By">Who asked.</param>
public sealed record MoveRunDefinition(Guid RunId, string TenantId, string ToHash, string By);

/// <summary>Ask the Planner which definition a run is pinned to (request/response).</summary>
/// <param name="RunId">The run.</param>
public sealed record GetRunDefinition(Guid RunId);

/// <summary>The Planner's answer to GetRunDefinition, and the part of a run's view (RunView.Definition) that says
/// which version of its agent the run acts on.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Found">False when the Planner holds no such run (never started, or expired after its retention).</param>
/// <param name="TenantId">The run's tenant.</param>
/// <param name="Agent">The run's agent.</param>
/// <param name="State">The run's state in the saga (LoadingContext, Acting, Escalated, Completed, ...).</param>
/// <param name="Finished">True once the run ended (Completed, Failed, Cancelled): it can no longer be moved.</param>
/// <param name="AgentHash">The SHA-256 of the definition the run is pinned to; null for a run that pinned none
/// (started by a build that did not pin, or refused before it started).</param>
/// <param name="CurrentHash">The SHA-256 of the agent's current definition in the Planner; null when the agent is no longer defined.</param>
/// <param name="MovingToHash">A move asked for and not yet applied (it applies at the next step boundary); null when none.</param>
/// <param name="DiffersFromCurrent">Whether the run acts on another definition than its agent's current one.</param>
public sealed record RunDefinition(
    Guid RunId,
    bool Found,
    string? TenantId = null,
    string? Agent = null,
    string? State = null,
    bool Finished = false,
    string? AgentHash = null,
    string? CurrentHash = null,
    string? MovingToHash = null,
    bool DiffersFromCurrent = false);
