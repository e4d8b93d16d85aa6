using Agentry.Agents.Tools;
using Agentry.Agents.Triggers;

namespace Agentry.Agents;

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
    public bool MayUse(string tool) => PolicyOf(tool) is not null;

    /// How final answers are checked: rules only unless the definition turns the model judge on.
    public AgentEvaluation Evaluation { get; init; } = AgentEvaluation.RulesOnly;

    /// What the context of each planning call holds beyond the goal and instructions.
    public AgentMemory Memory { get; init; } = AgentMemory.Default;

    /// How long a call that needs approval waits for a person, and what happens when nobody decides.
    public AgentApproval Approval { get; init; } = AgentApproval.Default;

    /// The limits, artifacts and read-only inputs of the agent's sandboxed code (run_python, run_shell).
    public AgentSandbox Sandbox { get; init; } = AgentSandbox.Default;

    /// What starts the agent's runs besides API calls: schedules, webhooks, event subscriptions.
    public IReadOnlyList<AgentTrigger> Triggers { get; init; } = [];

    /// The file's text with its line endings normalised, and its SHA-256 (AgentDefinitionHash): what a
    /// run pins when it starts (docs/durability.md). Null for a definition built in code, which no run pins.
    public string? Text { get; init; }

    public string? Hash { get; init; }

    /// The tool's policy, or null when the agent may not call it.
    public ToolPolicy? PolicyOf(string tool) => Tools.FirstOrDefault(t => t.Name == tool)?.Policy;

    /// The agents this one may start as sub-agents (its `agent:NAME` tools).
    public IEnumerable<string> SubAgents => Tools.Select(t => SubAgentTools.TryGetAgent(t.Name, out var agent) ? agent : null).OfType<string>();
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

/// A tool the agent may call, and the policy its calls are held to. Line and Column: where the
/// definition names it (0 when built in code), for the catalog's checks of sub-agents.
public sealed record AgentTool(string Name)
{
    public ToolPolicy Policy { get; init; } = ToolPolicy.Unrestricted;

    public long Line { get; init; }

    public long Column { get; init; }
}

/// AllowedHosts: the only hosts a network tool may reach for this agent (empty: the tool's own
/// allow-list applies); "api.example.com" is that host on any port, "*.example.com" any host under
/// example.com (not example.com itself), ":8443" after either limits the port. It narrows, never
/// widens: the tool's own allow-list and its refusal of private and loopback addresses still apply. ReadOnly: the tool must not change anything (a tool that cannot promise
/// that is refused). MaxCallsPerRun: null, no limit. NeedsApproval: a person approves each call
/// before it runs. Settings: the values this agent gives the tool's own settings (those its
/// descriptor declares), such as the amount over which a refund goes to a person.
public sealed record ToolPolicy(IReadOnlyList<string> AllowedHosts, bool ReadOnly, int? MaxCallsPerRun, bool NeedsApproval)
{
    public static readonly IReadOnlyDictionary<string, string> NoSettings = new Dictionary<string, string>();

    public static readonly ToolPolicy Unrestricted = new([], ReadOnly: false, MaxCallsPerRun: null, NeedsApproval: false);

    public IReadOnlyDictionary<string, string> Settings { get; init; } = NoSettings;

    /// Whether AllowedHosts lets a call reach this address (always, when the list is empty).
    public bool AllowsHost(Uri url) => AllowedHosts.Count == 0 || HostAllowList.Allows(AllowedHosts, url.IdnHost, url.Port, portWhenUnnamed: null);
}

/// Allow-list entries as agents write them: `api.example.com`, `*.example.com` (any subdomain, not
/// example.com itself), either with `:port`.
public static class HostAllowList
{
    /// portWhenUnnamed: the one port an entry without a port allows; null, any port.
    public static bool Allows(IReadOnlyList<string> entries, string host, int port, int? portWhenUnnamed)
    {
        host = host.TrimEnd('.');
        foreach (var entry in entries)
        {
            var colon = entry.LastIndexOf(':');
            var (pattern, named) = colon < 0 ? (entry, portWhenUnnamed) : (entry[..colon], int.Parse(entry[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            if (named is { } allowed && allowed != port)
            {
                continue;
            }

            var matches = pattern.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase) && host.Length > pattern.Length - 1
                : string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }
}

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

    /// Grading of a sample of the agent's completed runs, after they ended; null: none.
    public Evaluation.OnlineEvaluation? Online { get; init; }

    public static readonly AgentEvaluation RulesOnly = new(Judge: false, DefaultMinConfidence, Model: null);
}

/// Where the Notifier tells people about the agent's runs (outcomes, escalations, approvals): a webhook
/// (JSON), a Slack incoming webhook and email recipients (over the SMTP server in Notifier:Smtp).
/// The Slack URL is a secret (it carries the token): it is never logged.
public sealed record AgentNotifications(Uri? Webhook, Uri? Slack = null, IReadOnlyList<string>? Email = null)
{
    public static readonly AgentNotifications None = new(Webhook: null);

    public IReadOnlyList<string> EmailRecipients => Email ?? [];
}

/// The agent's memory, from `memory:` in its definition. ContextTokens: the budget of the whole
/// planning context, counted with the model's tokenizer. RecentSteps: the latest steps always kept
/// verbatim; older ones are summarized when the context would not fit. LongTerm: facts and
/// preferences about the user are recalled into the context and may be remembered. Knowledge: the
/// collections the agent may search. Retrieve: passages retrieved from them automatically for each
/// planning call (0: only through the search_knowledge tool).
public sealed record AgentMemory(int ContextTokens, int RecentSteps, bool LongTerm, IReadOnlyList<string> Knowledge, int Retrieve)
{
    public static readonly AgentMemory Default = new(ContextTokens: 8_000, RecentSteps: 4, LongTerm: false, Knowledge: [], Retrieve: 0);
}

/// From `approval:` in the agent's definition: Timeout, how long the calls of a step wait for a
/// person's decision; OnTimeout, what then happens to the calls still undecided.
public sealed record AgentApproval(TimeSpan Timeout, ApprovalTimeoutAction OnTimeout)
{
    public static readonly AgentApproval Default = new(TimeSpan.FromHours(1), ApprovalTimeoutAction.Deny);
}

public enum ApprovalTimeoutAction
{
    /// The undecided calls are denied; the model sees the denial and the run goes on.
    Deny,
    /// The run is escalated to a person.
    Escalate,
}
