namespace Agentry.Contracts;

/// <summary>Ask Memory for a tenant's runs, newest first (request/response; the Gateway's GET /runs and its console send it).</summary>
/// <param name="TenantId">The tenant whose runs are listed.</param>
/// <param name="Agent">Only this agent's runs, when set.</param>
/// <param name="Status">Only runs in this status, when set.</param>
/// <param name="Trigger">Only runs started this way, when set.</param>
/// <param name="Since">Only runs started at or after this time, when set.</param>
/// <param name="Limit">At most this many runs.</param>
public sealed record ListRuns(string TenantId, string? Agent, RunStatus? Status, TriggerKind? Trigger, DateTimeOffset? Since, int Limit);

/// <summary>The answer to ListRuns.</summary>
/// <param name="Runs">The runs, newest first.</param>
public sealed record RunList(IReadOnlyList<RunSummary> Runs);

/// <summary>A run as a line of a list: what it is and where it stands, without its steps.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Agent">The agent.</param>
/// <param name="Goal">The goal.</param>
/// <param name="Status">Where the run stands.</param>
/// <param name="Trigger">How it was started, when recorded.</param>
/// <param name="StartedAt">When Memory recorded its start.</param>
/// <param name="EndedAt">When it ended, if it has.</param>
/// <param name="Steps">Steps taken, once it ended.</param>
/// <param name="Usage">Tokens over the whole run, once it ended.</param>
/// <param name="TotalCost">What its model calls cost in US dollars, once it ended.</param>
public sealed record RunSummary(
    Guid RunId,
    string? Agent,
    string? Goal,
    RunStatus Status,
    TriggerKind? Trigger,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    int? Steps,
    TokenUsage? Usage,
    decimal? TotalCost);
