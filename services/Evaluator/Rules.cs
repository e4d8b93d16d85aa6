using System.Globalization;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Payloads;

namespace Agentry.Evaluator;

/// The rule checks. Each returns a verdict with a reason a person can read; rules are certain,
/// so their confidence is 1.
public static class Rules
{
    public static GoalEvaluated JudgeAnswer(StepPlanned step)
    {
        if (string.IsNullOrWhiteSpace(step.FinalAnswer))
        {
            return step.Step >= step.MaxSteps
                ? Verdict(step.RunId, step.TenantId, step.Step, Contracts.Verdict.Fail, $"Step limit reached: the model gave an empty answer at the last allowed step ({step.MaxSteps}).")
                : Verdict(step.RunId, step.TenantId, step.Step, Contracts.Verdict.Continue, "The model's answer was empty; asking again.");
        }

        return Verdict(step.RunId, step.TenantId, step.Step, Contracts.Verdict.Complete, "The model gave a final answer.") with { FinalAnswer = step.FinalAnswer };
    }

    public static GoalEvaluated JudgeResults(ToolResult result, IReadOnlyList<CallFingerprint> earlier)
    {
        var calls = Fingerprints(result);
        var repeated = calls
            .Select(call => (Call: call, Before: earlier.FirstOrDefault(e => e.Tool == call.Tool && e.Arguments == call.Arguments && e.Result == call.Result)))
            .FirstOrDefault(pair => pair.Before is not null);
        if (repeated.Before is not null)
        {
            return Verdict(result.RunId, result.TenantId, result.Step, Contracts.Verdict.Escalate,
                $"Loop detected: {repeated.Call.Tool} was called with the same arguments {repeated.Call.Arguments} at step {repeated.Before.Step} and again at step {result.Step}, with the same result; no new information.");
        }

        // A tool's own judgement that the case is beyond the agent (over its limit) is final: the
        // model must not be asked to find a way around it.
        if (result.Outcomes.FirstOrDefault(o => o.ErrorKind == ToolErrorKind.NeedsPerson) is { } handOver)
        {
            return Verdict(result.RunId, result.TenantId, result.Step, Contracts.Verdict.Escalate,
                $"{handOver.Tool} needs a person: {handOver.Error}");
        }

        if (result.Step >= result.MaxSteps)
        {
            return Verdict(result.RunId, result.TenantId, result.Step, Contracts.Verdict.Fail,
                $"Step limit reached: {result.MaxSteps} steps taken without a final answer.");
        }

        var failed = result.Outcomes.Count(o => !o.Succeeded);
        var reason = failed == 0
            ? $"{Plural(result.Outcomes.Count, "tool result")} observed; planning the next step."
            : $"{failed} of {Plural(result.Outcomes.Count, "tool call")} failed; the model will see the errors at the next step.";
        return Verdict(result.RunId, result.TenantId, result.Step, Contracts.Verdict.Continue, reason);
    }

    public static IReadOnlyList<CallFingerprint> Fingerprints(ToolResult result) =>
        result.Outcomes.Select(o => new CallFingerprint(
            result.Step,
            o.Tool,
            Canonical(o.Arguments),
            // An output is known by its content id (an output kept out of line by the id it was stored
            // under): the same content, the same result; and a run's history, read back at every tool
            // step, stays small however long the outputs (docs/durability.md, flat memory).
            o.Succeeded ? o.OutputRef?.Id ?? PayloadIds.Of(System.Text.Encoding.UTF8.GetBytes(o.Output)) : $"{o.ErrorKind}: {o.Error}")).ToList();

    // Arguments that differ only in key order, spacing, escaping or number notation are the same call.
    private static string Canonical(JsonElement arguments) => arguments.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", arguments.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{JsonSerializer.Serialize(p.Name)}:{Canonical(p.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", arguments.EnumerateArray().Select(Canonical)) + "]",
        JsonValueKind.String => JsonSerializer.Serialize(arguments.GetString()),
        JsonValueKind.Number when arguments.TryGetDecimal(out var number) => (number / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture),
        _ => arguments.GetRawText(),
    };

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private static GoalEvaluated Verdict(Guid runId, string tenantId, int step, Verdict verdict, string reason) =>
        new(runId, tenantId, step, verdict, reason, Confidence: 1.0);
}
