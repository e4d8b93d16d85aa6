using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Agentry.Contracts;

namespace Agentry.Notifier;

/// The summary of an escalated run, written for the person who takes it over: the goal, why it
/// stopped, each step's tool calls with a short form of their results, the last answer, usage and
/// cost, how to resume or close it, and the link. Built from Memory's transcript (the saga keeps only
/// counters); tool output is shortened to one line and shown as what the tool returned, never as
/// instructions.
public static class EscalationSummary
{
    private const int ResultChars = 200;

    // Arguments as compact JSON, readable: "2 + 2", not "2 \u002B 2".
    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private const int AnswerChars = 1_000;

    /// Whether Memory has recorded the escalated step with its verdict and every result: the
    /// transcript travels on other queues and may lag behind RunEscalated.
    public static bool IsComplete(RunView run, RunEscalated escalated) =>
        run.Found && run.Steps.FirstOrDefault(s => s.Step == escalated.Steps) is { Verdict: not null, Usage: not null } last
        && last.Outcomes.Count >= last.ToolCalls.Count;

    /// run: null when Memory could not be asked; the summary then has only what the message carries.
    public static string Write(RunEscalated escalated, RunView? run, Uri? link)
    {
        var text = new StringBuilder();
        var nl = Environment.NewLine;
        text.Append(CultureInfo.InvariantCulture, $"Run {escalated.RunId} of agent '{escalated.Agent}' needs a person: it stopped at step {escalated.Steps}.{nl}");
        text.Append(CultureInfo.InvariantCulture, $"Why it stopped: {escalated.Reason}{nl}{nl}");
        if (run is { Found: true })
        {
            text.Append(CultureInfo.InvariantCulture, $"Goal: {run.Goal}{nl}{nl}");
            text.Append("What was tried:").Append(nl);
            foreach (var step in run.Steps.Where(s => s.Usage is not null || s.ToolCalls.Count > 0 || s.FinalAnswer is not null))
            {
                WriteStep(text, step);
            }

            if (run.Steps.LastOrDefault(s => s.FinalAnswer is not null) is { } answered)
            {
                text.Append(CultureInfo.InvariantCulture, $"{nl}Last answer (step {answered.Step}, not accepted): {Shorten(answered.FinalAnswer!, AnswerChars)}{nl}");
            }
        }
        else
        {
            text.Append("(The transcript could not be read from Memory; what the run recorded:)").Append(nl).Append(escalated.Summary).Append(nl);
        }

        text.Append(CultureInfo.InvariantCulture, $"{nl}Usage: {escalated.Usage.Total:N0} tokens ({escalated.Usage.InputTokens:N0} in, {escalated.Usage.OutputTokens:N0} out), cost ${escalated.TotalCost.ToString("0.####", CultureInfo.InvariantCulture)}, {escalated.Duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s.{nl}");
        text.Append(CultureInfo.InvariantCulture, $"{nl}To go on: agentry resume {escalated.RunId} \"your guidance\"   To end it: agentry close {escalated.RunId} \"your resolution\"{nl}");
        if (link is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"{link}{nl}");
        }

        return text.ToString();
    }

    private static void WriteStep(StringBuilder text, StepView step)
    {
        var nl = Environment.NewLine;
        text.Append(CultureInfo.InvariantCulture, $"  Step {step.Step}:");
        if (step.ToolCalls.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" answered \"{Shorten(step.FinalAnswer ?? "", ResultChars)}\"");
        }

        text.Append(nl);
        foreach (var call in step.ToolCalls)
        {
            var outcome = step.Outcomes.FirstOrDefault(o => o.CallId == call.CallId);
            var result = outcome switch
            {
                null => "no result recorded",
                { Succeeded: true } => $"returned {Shorten(outcome.Output, ResultChars)}",
                _ => $"{outcome.ErrorKind}: {Shorten(outcome.Error ?? outcome.Output, ResultChars)}",
            };
            text.Append(CultureInfo.InvariantCulture, $"    - {call.Tool} {Shorten(JsonSerializer.Serialize(call.Arguments, ReadableJson), ResultChars)} -> {result}{nl}");
        }

        if (step.Verdict is { } verdict && verdict != Verdict.Continue)
        {
            text.Append(CultureInfo.InvariantCulture, $"    Evaluator: {verdict}: {step.VerdictReason}{nl}");
        }

        if (step.Guidance is { } guidance)
        {
            text.Append(CultureInfo.InvariantCulture, $"    Resumed by {guidance.By} with guidance: {Shorten(guidance.Text, AnswerChars)}{nl}");
        }
    }

    // One line: a person reads a summary, not the raw output.
    private static string Shorten(string text, int max)
    {
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= max ? line : string.Concat(line.AsSpan(0, max - 1), "…");
    }
}
