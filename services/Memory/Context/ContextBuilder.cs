using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Agentry.ServiceDefaults.Payloads;
using Microsoft.ML.Tokenizers;

namespace Agentry.Memory;

/// Raised when a step's record has not arrived yet (messages travel on separate queues);
/// the consumer's retry asks again shortly.
public sealed class TranscriptNotReadyException(string message) : Exception(message);

/// The context of one planning call and what went into it. OverBudget: why no context within the
/// budget could be made (Messages is then the smallest one tried, never to be sent). Usage and Cost:
/// what the model calls made to build it spent (a summary), null and 0 when none was made.
public sealed record AssembledContext(
    IReadOnlyList<ContextMessage> Messages,
    int Tokens,
    int Budget,
    int SummarizedSteps,
    int Memories,
    int Passages,
    int ShortenedSteps,
    string? OverBudget,
    TokenUsage? Usage = null,
    decimal Cost = 0);

/// Builds what the next planning call needs, in this order: the agent's instructions; what is
/// remembered about the user (memory.long_term); passages retrieved from the agent's collections
/// (memory.retrieve), each labelled so that an answer can cite it; the goal; then the transcript.
/// The whole fits memory.context_tokens as the model's tokenizer counts it. When it does not:
/// 1. all but the latest memory.recent_steps steps are replaced by a summary (TranscriptSummarizer);
/// 2. then passages are dropped, least relevant first, then memories;
/// 3. then the tool outputs of the verbatim steps before the latest are shortened, oldest first;
/// 4. and if the instructions, goal, summary and latest steps still do not fit, OverBudget says so.
/// Once a summary is stored, the steps it covers are never read again (the transcript only grows, so
/// they will not fit verbatim again): a context reads that summary and the steps after it, and the
/// work of a step stays the same however long the run (docs/durability.md, flat memory).
public sealed class ContextBuilder(
    ISummaryStore summaries,
    IMemoryItemStore memories,
    IKnowledgeRetriever knowledge,
    TranscriptSummarizer summarizer,
    ContextTokens tokens,
    ModelGateway models,
    PayloadStore payloads)
{
    /// How many memories about the user are looked up for one context.
    public const int MemoryLimit = 10;

    /// How long an older verbatim step's tool output may stay once outputs must be shortened.
    public const int ShortOutputTokens = 100;

    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// The stored summary this step's context starts from: the one that covers the most steps while
    /// leaving the latest memory.recent_steps verbatim; null while no context of the run was compacted.
    /// Read it first, then the run's steps after it (ITranscriptStore.GetRecentAsync).
    public Task<TranscriptSummary?> StoredSummaryAsync(AgentDefinition agent, ContextRequested request, CancellationToken cancellationToken)
    {
        var through = request.Step - 1 - agent.Memory.RecentSteps;
        return through < 1 ? Task.FromResult<TranscriptSummary?>(null) : summaries.GetSummaryAsync(request.TenantId, request.RunId, through, cancellationToken);
    }

    /// The context from a run read whole (or from any step up to the stored summary's first uncovered one).
    public async Task<AssembledContext> BuildAsync(AgentDefinition agent, RunView run, ContextRequested request, CancellationToken cancellationToken) =>
        await BuildAsync(agent, run, request, await StoredSummaryAsync(agent, request, cancellationToken), cancellationToken);

    /// run must hold every step after stored.ThroughStep (or every step when stored is null); earlier ones are not read.
    public async Task<AssembledContext> BuildAsync(AgentDefinition agent, RunView run, ContextRequested request, TranscriptSummary? stored, CancellationToken cancellationToken)
    {
        var settings = agent.Memory;
        var tokenizer = tokens.For(ModelName(agent));
        var steps = await ResolveRecentAsync(Transcript(run, request, (stored?.ThroughStep ?? 0) + 1), settings.RecentSteps, cancellationToken);
        var goal = Goal(request, request.InputRef is { } inputRef ? await ReadInputAsync(inputRef, request, cancellationToken) : null);
        var query = steps.Count > 0 && !string.IsNullOrWhiteSpace(steps[^1].Thought) ? $"{request.Goal}\n{steps[^1].Thought}" : request.Goal;

        IReadOnlyList<MemoryItem> remembered = settings.LongTerm && !string.IsNullOrWhiteSpace(request.UserId)
            ? await memories.SearchItemsAsync(request.TenantId, request.UserId, query, MemoryLimit, cancellationToken)
            : [];
        IReadOnlyList<RetrievedPassage> passages = settings.Retrieve > 0 && settings.Knowledge.Count > 0
            ? await knowledge.RetrieveAsync(request.TenantId, settings.Knowledge, query, settings.Retrieve, cancellationToken)
            : [];

        var draft = new Draft(agent.Instructions, goal, remembered, passages, stored, steps, 0);
        if (stored is null && Fits(draft, tokenizer, settings.ContextTokens, out var whole))
        {
            return whole;
        }

        // 1. The transcript does not fit: the older steps become one summary (the stored one, extended
        // with the steps that have become old since).
        var oldCount = steps.Count - settings.RecentSteps;
        if (oldCount > 0)
        {
            var summarized = await summarizer.SummarizeAsync(agent, request, steps.Take(oldCount).ToList(), tokenizer, SummaryTokens(settings.ContextTokens), cancellationToken);
            draft = draft with { Summary = summarized.Summary, Steps = steps.Skip(oldCount).ToList(), Spent = summarized };
        }

        if (Fits(draft, tokenizer, settings.ContextTokens, out var context))
        {
            return context;
        }

        // 2. Still over: what was looked up goes before what the run itself did.
        while (draft.Passages.Count > 0)
        {
            draft = draft with { Passages = draft.Passages.Take(draft.Passages.Count - 1).ToList() };
            if (Fits(draft, tokenizer, settings.ContextTokens, out context))
            {
                return context;
            }
        }

        while (draft.Memories.Count > 0)
        {
            draft = draft with { Memories = draft.Memories.Take(draft.Memories.Count - 1).ToList() };
            if (Fits(draft, tokenizer, settings.ContextTokens, out context))
            {
                return context;
            }
        }

        // 3. The latest step's outputs are what the model must act on next: only earlier ones are cut.
        while (draft.Shortened < draft.Steps.Count - 1)
        {
            draft = draft with { Shortened = draft.Shortened + 1 };
            if (Fits(draft, tokenizer, settings.ContextTokens, out context))
            {
                return context;
            }
        }

        // 4. Nothing left to give up.
        return context with { OverBudget = OverBudget(agent, request, draft, context.Tokens) };
    }

    private sealed record Draft(
        string Instructions,
        string Goal,
        IReadOnlyList<MemoryItem> Memories,
        IReadOnlyList<RetrievedPassage> Passages,
        TranscriptSummary? Summary,
        IReadOnlyList<StepView> Steps,
        int Shortened,
        TranscriptSummarizer.Summarized? Spent = null);

    private static bool Fits(Draft draft, Tokenizer tokenizer, int budget, out AssembledContext context)
    {
        var messages = Compose(draft, tokenizer);
        var count = ContextTokens.Count(tokenizer, messages);
        // A summary made for this context is spent whether or not the context then fits.
        var spent = draft.Spent is { } s && (s.Usage.Total > 0 || s.Cost > 0) ? s : null;
        context = new AssembledContext(messages, count, budget, draft.Summary?.ThroughStep ?? 0, draft.Memories.Count, draft.Passages.Count, draft.Shortened, null,
            spent?.Usage, spent?.Cost ?? 0);
        return count <= budget;
    }

    private static List<ContextMessage> Compose(Draft draft, Tokenizer tokenizer)
    {
        var messages = new List<ContextMessage> { new(ContextRole.System, draft.Instructions) };
        // System messages, not user ones: the goal stays the first user message, where models
        // (the offline one included) look for it. Both are wrapped as data: neither was written by
        // the agent's author, and a passage or a remembered line may carry someone's instructions.
        if (draft.Memories.Count > 0)
        {
            var lines = string.Join("\n", draft.Memories.Select(m => $"- ({m.Kind.ToString().ToLowerInvariant()}) {m.Text}"));
            messages.Add(new ContextMessage(ContextRole.System,
                "What is remembered about this user from earlier runs; use it where it helps.\n" + ToolOutcomeText.WrapData("remembered about the user", lines)));
        }

        if (draft.Passages.Count > 0)
        {
            var text = new StringBuilder("Passages retrieved from the knowledge base for this goal. When an answer uses one, cite it by its label, e.g. ")
                .Append(Label(draft.Passages[0])).Append('.');
            foreach (var passage in draft.Passages)
            {
                text.Append("\n\n").Append(Label(passage)).Append('\n').Append(ToolOutcomeText.WrapData($"a passage of {passage.Source}", passage.Text));
            }

            messages.Add(new ContextMessage(ContextRole.System, text.ToString()));
        }

        messages.Add(new ContextMessage(ContextRole.User, draft.Goal));
        if (draft.Summary is { } summary)
        {
            var which = summary.ThroughStep == 1 ? "Step 1" : $"Steps 1 to {summary.ThroughStep}";
            messages.Add(new ContextMessage(ContextRole.User,
                $"{which} of this run, summarized to fit the context (the later steps follow as they were):\n"
                + ToolOutcomeText.WrapData("a summary of earlier steps and their tool outputs", summary.Text)));
        }

        for (var i = 0; i < draft.Steps.Count; i++)
        {
            AddStep(messages, draft.Steps[i], i < draft.Shortened ? tokenizer : null);
        }

        return messages;
    }

    /// How a passage is named in the context and in citations: "[collection] source, passage N".
    public static string Label(RetrievedPassage passage) =>
        $"{Agentry.Agents.Knowledge.KnowledgeCitation.Of(passage.Source, passage.Position)} from {passage.Collection}";

    private static void AddStep(List<ContextMessage> messages, StepView step, Tokenizer? shorten)
    {
        if (step.ToolCalls.Count > 0)
        {
            messages.Add(new ContextMessage(ContextRole.Assistant, step.Thought ?? "", step.ToolCalls));
            foreach (var call in step.ToolCalls)
            {
                var outcome = step.Outcomes.First(o => o.CallId == call.CallId);
                messages.Add(new ContextMessage(ContextRole.Tool, ToolOutcomeText.Format(shorten is null ? outcome : Shortened(outcome, shorten)), CallId: call.CallId));
            }
        }
        else
        {
            messages.Add(new ContextMessage(ContextRole.Assistant, step.FinalAnswer ?? ""));
            if (step.VerdictReason is { } reason)
            {
                messages.Add(new ContextMessage(ContextRole.User, reason));
            }
        }

        // A person resumed the escalated run after this step: their words come next, as the user's.
        if (step.Guidance is { } guidance)
        {
            messages.Add(new ContextMessage(ContextRole.User, $"A person ({guidance.By}) reviewed the run and says: {guidance.Text}"));
        }
    }

    private static ToolOutcome Shortened(ToolOutcome outcome, Tokenizer tokenizer)
    {
        var total = ContextTokens.Count(tokenizer, outcome.Output);
        if (total <= ShortOutputTokens)
        {
            return outcome;
        }

        var kept = ContextTokens.Shorten(tokenizer, outcome.Output, ShortOutputTokens);
        return outcome with { Output = $"{kept}\n[shortened to fit the context: the first {ShortOutputTokens} of {total} tokens]" };
    }

    /// Steps first to request.Step - 1, each complete (planned, and every call's outcome recorded).
    private static List<StepView> Transcript(RunView run, ContextRequested request, int first)
    {
        var steps = new List<StepView>();
        for (var number = first; number < request.Step; number++)
        {
            var step = run.Steps.FirstOrDefault(s => s.Step == number && s.Usage is not null)
                ?? throw new TranscriptNotReadyException($"Step {number} of run {request.RunId} is not recorded yet.");
            if (!step.IsRecordedWhole())
            {
                throw new TranscriptNotReadyException($"The tool results of step {number} of run {request.RunId} are not recorded yet.");
            }

            steps.Add(step);
        }

        return steps;
    }

    private static string Goal(ContextRequested request, string? inputJson) =>
        request.Input is { } input
            ? $"{request.Goal}{Environment.NewLine}{Environment.NewLine}Input:{Environment.NewLine}{JsonSerializer.Serialize(input, CompactJson)}"
            : inputJson is not null
                ? $"{request.Goal}{Environment.NewLine}{Environment.NewLine}Input:{Environment.NewLine}{JsonSerializer.Serialize(JsonDocument.Parse(inputJson).RootElement, CompactJson)}"
                : request.Goal;

    /// Outputs kept out of line are read back for the latest memory.recent_steps steps, each at most
    /// Payloads:ContextChars: those are the steps the model acts on, and always stay verbatim. Older
    /// steps keep the preview the reference carries, as an output shortened to fit (step 3) would be,
    /// so a long run never reads every earlier payload again at every step.
    private async Task<List<StepView>> ResolveRecentAsync(List<StepView> steps, int recent, CancellationToken cancellationToken)
    {
        for (var i = Math.Max(0, steps.Count - recent); i < steps.Count; i++)
        {
            steps[i] = steps[i] with { Outcomes = await payloads.ResolveAsync(steps[i].Outcomes, payloads.Options.ContextChars, cancellationToken) };
        }

        return steps;
    }

    /// A run's input is bounded by Goals:MaxInputBytes, so it is read whole: the model sees all of it.
    private async Task<string> ReadInputAsync(PayloadRef input, ContextRequested request, CancellationToken cancellationToken) =>
        await payloads.ReadTextAsync(input, null, cancellationToken)
            ?? throw new InvalidOperationException($"The input of run {request.RunId} ({input.Id}, {input.Size} bytes) is no longer in the {input.Store} payload store: the context of step {request.Step} cannot be built.");

    /// The summary gets a fifth of the budget: room for the latest steps stays the larger part.
    public static int SummaryTokens(int budget) => Math.Clamp(budget / 5, 100, 2_000);

    /// The name the primary model is asked by, whose tokenizer counts the context.
    private string? ModelName(AgentDefinition agent)
    {
        try
        {
            return models.Chain(agent.Model)[0].Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string OverBudget(AgentDefinition agent, ContextRequested request, Draft draft, int tokens)
    {
        var parts = new List<string> { "the instructions", "the goal" };
        if (draft.Summary is { } summary)
        {
            parts.Add($"the summary of steps 1 to {summary.ThroughStep}");
        }

        if (draft.Steps.Count > 0)
        {
            parts.Add(draft.Steps.Count == 1 ? "the latest step" : $"the latest {draft.Steps.Count} steps");
        }

        var given = draft.Steps.Count > 1 ? "retrieved passages and memories were dropped and older tool outputs shortened" : "retrieved passages and memories were dropped";
        return string.Create(CultureInfo.InvariantCulture,
            $"The context for step {request.Step} does not fit agent '{agent.Name}''s budget of {agent.Memory.ContextTokens} tokens (memory.context_tokens): "
            + $"{string.Join(", ", parts[..^1])} and {parts[^1]} come to {tokens} tokens, after {given}. "
            + $"Raise memory.context_tokens or lower memory.recent_steps in {agent.SourceFile}, or shorten the instructions or the goal.");
    }
}
