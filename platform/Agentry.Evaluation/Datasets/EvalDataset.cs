using System.Text.Json;
using System.Text.RegularExpressions;
using Agentry.Agents;
using Agentry.Contracts;
using Json.Schema;

namespace Agentry.Evaluation.Datasets;

/// One evaluation dataset: a file of cases next to the agents (agents/evals/NAME.yaml or .jsonl).
/// Version is what results are stored with: the file's declared `version` (if any) and a hash of its
/// content, so two results name the same dataset only when the cases were the same.
public sealed record EvalDataset(
    string Name,
    string File,
    string Version,
    string? Agent,
    double MinPassRate,
    ModelChoice? JudgeModel,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Knowledge,
    IReadOnlyList<EvalCase> Cases)
{
    /// Without a `min_pass_rate`, a case must pass at least half its trials (see VerdictRule).
    public const double DefaultMinPassRate = 0.5;

    public double ThresholdOf(EvalCase @case) => @case.MinPassRate ?? MinPassRate;

    public string AgentOf(EvalCase @case, string? overrideAgent) => overrideAgent ?? @case.Agent ?? Agent ?? "assistant";
}

/// One case: what the agent is asked, and what its run must show. Line is where it starts in the file.
public sealed record EvalCase(
    string Id,
    string Goal,
    JsonElement? Input,
    string? Agent,
    bool Approve,
    CaseExpectations Expect,
    double? MinPassRate,
    int Line);

/// The checks of a case; every one given must hold for a trial to pass.
public sealed record CaseExpectations
{
    public RunStatus? Status { get; init; }
    public string? Exact { get; init; }
    public IReadOnlyList<string> Contains { get; init; } = [];
    public IReadOnlyList<string> NotContains { get; init; } = [];
    public IReadOnlyList<Regex> Matches { get; init; } = [];
    public JsonSchema? OutputSchema { get; init; }
    public IReadOnlyList<ToolExpectation> Called { get; init; } = [];
    public IReadOnlyList<string> NotCalled { get; init; } = [];
    public int? MaxSteps { get; init; }
    public int? MaxTokens { get; init; }
    public decimal? MaxCost { get; init; }
    public TimeSpan? MaxLatency { get; init; }
    public Rubric? Rubric { get; init; }

    public bool ChecksTheAnswer => Exact is not null || Contains.Count > 0 || NotContains.Count > 0 || Matches.Count > 0;

    public bool ChecksTools => Called.Count > 0 || NotCalled.Count > 0;

    public bool ChecksBudget => MaxSteps is not null || MaxTokens is not null || MaxCost is not null || MaxLatency is not null;
}

/// A tool that must be called; with Arguments, at least one call must carry each of them (by JSON equality).
public sealed record ToolExpectation(string Tool, JsonElement? Arguments);

/// Criteria a model judge grades the answer against (0 to 1); the trial passes this grader at MinScore.
public sealed record Rubric(string Criteria, double MinScore)
{
    public const double DefaultMinScore = 0.7;
}
