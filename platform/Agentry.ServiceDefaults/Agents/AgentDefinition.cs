namespace Agentry.ServiceDefaults.Agents;

/// An agent as declared in agents/NAME.yaml. Only what the services act on today is modelled;
/// unknown keys are rejected at load so a typo never passes silently.
public sealed record AgentDefinition(
    string Name,
    string Description,
    string Instructions,
    ModelChoice Model,
    PlanningStrategy Strategy,
    IReadOnlyList<AgentTool> Tools,
    AgentLimits Limits,
    AgentNotifications Notify,
    string SourceFile)
{
    public bool MayUse(string tool) => Tools.Any(t => t.Name == tool);

    /// How final answers are checked: rules only unless the definition turns the model judge on.
    public AgentEvaluation Evaluation { get; init; } = AgentEvaluation.RulesOnly;
}

/// The model an agent asks: a provider (by its name in Llm:Providers; none: the default provider) and
/// a model name (none: the provider's default), the sampling temperature (none: 0), whether replies
/// may be cached (none: only when the request is deterministic) and the models to fall back on.
public sealed record ModelChoice(
    string? Name,
    string? Provider = null,
    double? Temperature = null,
    bool? Cache = null,
    IReadOnlyList<FallbackModel>? Fallbacks = null)
{
    public IReadOnlyList<FallbackModel> FallbackModels => Fallbacks ?? [];
}

/// A model to ask when the ones before it in the chain time out, are rate limited or fail.
public sealed record FallbackModel(string? Provider, string? Name);

public enum PlanningStrategy
{
    /// One model call per step: the next tool calls or the answer.
    React,
    /// One model call writes a plan; the saga runs its steps, re-planning when one fails.
    PlanAndExecute,
}

public sealed record AgentTool(string Name);

/// MaxReplans bounds the re-plans of a plan-and-execute run; ReAct runs never re-plan.
public sealed record AgentLimits(int MaxSteps, int MaxTokens, TimeSpan Deadline, int MaxReplans = 2)
{
    public static readonly AgentLimits Default = new(MaxSteps: 10, MaxTokens: 50_000, Deadline: TimeSpan.FromMinutes(5));

    /// Most spend over all model calls of a run, in US dollars; null: no cost limit.
    public decimal? MaxCost { get; init; }
}

/// The optional model judge of final answers: an answer it is less confident in than MinConfidence
/// is escalated to a person. Model: the judge's own model; null asks the agent's.
public sealed record AgentEvaluation(bool Judge, double MinConfidence, ModelChoice? Model)
{
    public const double DefaultMinConfidence = 0.7;

    public static readonly AgentEvaluation RulesOnly = new(Judge: false, DefaultMinConfidence, Model: null);
}

public sealed record AgentNotifications(Uri? Webhook);
