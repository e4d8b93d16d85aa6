using System.Text.RegularExpressions;

namespace Agentry.Agents.Evaluation;

/// `evaluation.online` of an agent definition: the share of its completed production runs that
/// are graded (Sample, 0 to 1), what they are graded on, and when a drop in their scores is an alert.
public sealed record OnlineEvaluation(double Sample, OnlineChecks Checks, OnlineAlert? Alert);

/// What a sampled run is graded on: the same checks a dataset case may make that need no
/// per-case expectation. Each given check is one grader's input; an empty list or null is not checked.
public sealed record OnlineChecks
{
    public const double DefaultMinScore = 0.7;

    /// Criteria the rubric judge grades the answer against, from 0 to 1.
    public string? Rubric { get; init; }

    public double MinScore { get; init; } = DefaultMinScore;

    public IReadOnlyList<string> Contains { get; init; } = [];

    public IReadOnlyList<string> NotContains { get; init; } = [];

    public IReadOnlyList<Regex> Matches { get; init; } = [];

    public IReadOnlyList<string> Called { get; init; } = [];

    public IReadOnlyList<string> NotCalled { get; init; } = [];

    public int? MaxSteps { get; init; }

    public int? MaxTokens { get; init; }

    public decimal? MaxCost { get; init; }

    public TimeSpan? MaxLatency { get; init; }

    public bool GradesAnything =>
        Rubric is not null || Contains.Count > 0 || NotContains.Count > 0 || Matches.Count > 0 || Called.Count > 0 || NotCalled.Count > 0
        || MaxSteps is not null || MaxTokens is not null || MaxCost is not null || MaxLatency is not null;
}

/// A drop is an alert: the mean score of a window of Window graded runs at least Drop below the
/// mean of the window before it.
public sealed record OnlineAlert(int Window, double Drop)
{
    public const int DefaultWindow = 50;
    public const double DefaultDrop = 0.2;
}
