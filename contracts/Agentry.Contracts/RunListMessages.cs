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

/// <summary>Ask Memory for a tenant's run totals per agent per day (request/response; the Gateway's GET /runs/totals sends it).</summary>
/// <param name="TenantId">The tenant whose runs are counted.</param>
/// <param name="Since">Only runs started at or after this time.</param>
/// <param name="Until">Only runs started before this time.</param>
/// <param name="Agent">Only this agent's runs, when set.</param>
public sealed record GetRunTotals(string TenantId, DateTimeOffset Since, DateTimeOffset Until, string? Agent);

/// <summary>The answer to GetRunTotals.</summary>
/// <param name="TenantId">The tenant whose runs were counted.</param>
/// <param name="Since">The start of the window, as asked.</param>
/// <param name="Until">The end of the window, as asked.</param>
/// <param name="Days">One line per agent and day that had runs, by day then agent.</param>
public sealed record RunTotals(string TenantId, DateTimeOffset Since, DateTimeOffset Until, IReadOnlyList<AgentDayTotals> Days);

/// <summary>What one agent's runs of one day came to. A run counts on the UTC day it started (a run known only from its end, on the day it ended).</summary>
/// <param name="Agent">The agent.</param>
/// <param name="Day">The day, in UTC.</param>
/// <param name="Runs">Runs started that day.</param>
/// <param name="Completed">Of them, those that completed.</param>
/// <param name="Failed">Those that failed.</param>
/// <param name="Escalated">Those waiting for a person now.</param>
/// <param name="Cancelled">Those cancelled.</param>
/// <param name="Running">Those still running.</param>
/// <param name="SuccessRate">Completed over the runs that are no longer running (0 to 1); null while none is.</param>
/// <param name="Usage">Tokens of the runs that ended.</param>
/// <param name="Cost">What the model calls of the runs that ended cost, in US dollars.</param>
public sealed record AgentDayTotals(
    string Agent,
    DateOnly Day,
    int Runs,
    int Completed,
    int Failed,
    int Escalated,
    int Cancelled,
    int Running,
    double? SuccessRate,
    TokenUsage Usage,
    decimal Cost);
