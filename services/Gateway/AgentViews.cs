using Agentry.Agents;
using Agentry.Gateway.Triggers.Schedules;

namespace Agentry.Gateway;

public sealed record AgentList(IReadOnlyList<AgentView> Agents);

/// An agent as GET /agents shows it: its definition, with no secret in it (AgentsApi says what is
/// left out and why). Triggers are only those whose runs belong to the caller's tenant.
public sealed record AgentView(
    string Name,
    string Description,
    string Instructions,
    AgentModelView Model,
    string Strategy,
    IReadOnlyList<AgentToolView> Tools,
    AgentLimitsView Limits,
    AgentApprovalView Approval,
    AgentSandboxView Sandbox,
    IReadOnlyList<AgentTriggerView> Triggers,
    AgentNotifyView Notify,
    string SourceFile);

/// Provider and Name: null, the default provider or its default model.
public sealed record AgentModelView(string? Provider, string? Name, double? Temperature, IReadOnlyList<string> Fallbacks);

/// A tool the agent may call and its policy. Sandboxed: its code runs in the sandbox under the
/// agent's sandbox limits; AllowedHosts: the only hosts it may reach for this agent (empty: the
/// tool's own allow-list); SubAgent: the agent an `agent:NAME` tool starts; Unavailable: why this
/// host does not offer the tool (its calls fail), or null.
public sealed record AgentToolView(
    string Name,
    string? Description,
    bool NeedsApproval,
    bool ReadOnly,
    int? MaxCallsPerRun,
    IReadOnlyList<string> AllowedHosts,
    bool SideEffects,
    bool Sandboxed,
    string? SubAgent,
    IReadOnlyDictionary<string, string> Settings,
    string? Unavailable);

/// MaxReplans: only for plan-and-execute agents (ReAct runs never re-plan).
public sealed record AgentLimitsView(int MaxSteps, int MaxTokens, decimal? MaxCost, TimeSpan Deadline, int? MaxReplans);

public sealed record AgentApprovalView(TimeSpan Timeout, string OnTimeout);

/// The limits of each run_python/run_shell call (null: the service's default), the files kept as
/// artifacts, the names of the read-only inputs and the hosts its code may reach (none: no network).
public sealed record AgentSandboxView(
    TimeSpan? WallTime,
    TimeSpan? CpuTime,
    long? MemoryBytes,
    int? Processes,
    long? OutputBytes,
    long? WorkspaceBytes,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> AllowedHosts);

/// A trigger, by Kind: a schedule with its state (paused, next fire times: GET /schedules' view),
/// a webhook with its path, signature scheme and the name of its secret (never the secret), an
/// event subscription with its exchange and routing key.
public sealed record AgentTriggerView(
    string Name,
    string Kind,
    string TenantId,
    string Goal,
    ScheduleView? Schedule = null,
    string? Path = null,
    string? Scheme = null,
    string? SecretName = null,
    string? Exchange = null,
    string? RoutingKey = null);

/// Where the agent's outcomes go: a webhook's origin only (its path and query may carry a token), whether
/// a Slack incoming webhook is set (its URL is a token), and the email recipients.
public sealed record AgentNotifyView(string? Webhook, bool Slack, IReadOnlyList<string> Email);
