using System.Text;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Memory;

/// At the end of a completed run of an agent with long-term memory, asks the agent's model what the
/// run taught about its user, and keeps what the user did not already have. Failed and cancelled runs
/// are not read: what they show of the user is less likely to be meant. What asking costs is recorded
/// on the run (RunView.ExtractionUsage, .ExtractionCost).
public sealed partial class MemoryExtractionConsumer(
    ITranscriptStore transcripts,
    IMemoryItemStore items,
    PinnedAgents agents,
    ModelGateway models,
    ModelPrices prices,
    TimeProvider clock,
    ILogger<MemoryExtractionConsumer> logger) : IConsumer<RunCompleted>
{
    /// A malformed reply is asked for once more; then the run teaches nothing.
    public const int MaxReasks = 1;

    /// The transcript shown to the model is cut to this many characters (its start and its end kept).
    public const int MaxTranscriptChars = 24_000;

    public async Task Consume(ConsumeContext<RunCompleted> context)
    {
        var completed = context.Message;
        if (await agents.FindAsync(completed.Agent, completed.AgentHash, context.CancellationToken) is not { Memory.LongTerm: true } agent)
        {
            return;
        }

        var run = await transcripts.GetAsync(completed.TenantId, completed.RunId, context.CancellationToken);
        if (string.IsNullOrWhiteSpace(run.UserId))
        {
            return;
        }

        var user = run.UserId;
        CheckedReply<IReadOnlyList<ExtractedMemory>> reply;
        try
        {
            reply = await StructuredReplies.AskAsync(
                (history, token) => models.AskAsync(agent.Model, history, new OpenAIPromptExecutionSettings { Temperature = 0 }, kernel: null, token),
                MemoryExtractionPrompt.History(Transcript(run, completed.Answer)),
                MemoryExtractionPrompt.Check, MaxReasks, cancellationToken: context.CancellationToken);
        }
        catch (ModelCallException e)
        {
            // Learning is a bonus to a run that already ended well: a model that cannot be asked costs it nothing.
            LogModelFailed(logger, completed.RunId, e.Message);
            return;
        }

        // Asked after the run ended: kept on the run's record, apart from what its end reported.
        await transcripts.RecordExtractionAsync(completed.RunId, reply.Usage, prices.CostOf(reply.Attempts), context.CancellationToken);
        if (!reply.IsValid)
        {
            LogUnreadable(logger, completed.RunId, reply.Attempts.Count, reply.Problem);
            return;
        }

        var known = (await items.ListItemsAsync(completed.TenantId, user, context.CancellationToken))
            .Select(item => MemoryText.Normalize(item.Text))
            .ToHashSet(StringComparer.Ordinal);
        var added = 0;
        foreach (var memory in reply.Value!)
        {
            var normalized = MemoryText.Normalize(memory.Text);
            if (normalized.Length == 0 || !known.Add(normalized))
            {
                continue;
            }

            var kind = memory.Kind == "preference" ? MemoryKind.Preference : MemoryKind.Fact;
            // The id depends on the text, not on its position in the reply: a second extraction of the
            // same run (a redelivered RunCompleted) writes the same ids again.
            var id = MemoryItemIds.For(completed.RunId, "extracted:" + normalized);
            await items.AddItemAsync(new MemoryItem(id, completed.TenantId, user, memory.Text, kind, completed.RunId, clock.GetUtcNow()), context.CancellationToken);
            added++;
        }

        LogExtracted(logger, completed.RunId, added, reply.Value!.Count);
    }

    /// The run as the model reads it: goal, then each step's thought, calls, their outcomes (as
    /// untrusted data) and the answer.
    public static string Transcript(RunView run, string? answer)
    {
        var text = new StringBuilder();
        text.AppendLine($"User's goal: {run.Goal}");
        foreach (var step in run.Steps)
        {
            if (!string.IsNullOrWhiteSpace(step.Thought))
            {
                text.AppendLine($"Agent (step {step.Step}): {step.Thought}");
            }

            foreach (var call in step.ToolCalls)
            {
                text.AppendLine($"Agent called {call.Tool} {call.Arguments.GetRawText()}");
            }

            foreach (var outcome in step.Outcomes)
            {
                text.AppendLine($"{outcome.Tool} returned:");
                text.AppendLine(ToolOutcomeText.Format(outcome));
            }
        }

        if ((answer ?? run.Answer) is { } final)
        {
            text.AppendLine($"Agent's final answer: {final}");
        }

        return Cut(text.ToString());
    }

    private static string Cut(string transcript)
    {
        if (transcript.Length <= MaxTranscriptChars)
        {
            return transcript;
        }

        const string gap = "\n[... the middle of the run is left out ...]\n";
        var head = MaxTranscriptChars / 4;
        return transcript[..head] + gap + transcript[^(MaxTranscriptChars - head - gap.Length)..];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Nothing was learned from run {RunId}: the model could not be asked ({Problem}).")]
    private static partial void LogModelFailed(ILogger logger, Guid runId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Nothing was learned from run {RunId}: the model's reply could not be read after {Attempts} attempts ({Problem}).")]
    private static partial void LogUnreadable(ILogger logger, Guid runId, int attempts, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} taught {Added} new memory item(s) about its user ({Proposed} proposed).")]
    private static partial void LogExtracted(ILogger logger, Guid runId, int added, int proposed);
}
