using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;

namespace Agentry.Tests.Evaluation;

/// Recorded runs as Memory returns them (RunView), for grading tests that need no runtime.
public static class EvalRuns
{
    public static RunEvidence Completed(string answer, params (string Tool, string Arguments)[] calls) =>
        new(View(RunStatus.Completed, answer, calls), TimeSpan.FromMilliseconds(800));

    public static RunView View(RunStatus status, string? answer, (string Tool, string Arguments)[] calls, int tokens = 500, decimal cost = 0.002m, string? reason = null)
    {
        var toolCalls = calls.Select((c, i) => new ToolCall($"call_{i}", c.Tool, JsonDocument.Parse(c.Arguments).RootElement.Clone())).ToList();
        var outcomes = toolCalls.Select(c => new ToolOutcome(c.CallId, c.Tool, c.Arguments, "ok", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5))).ToList();
        List<StepView> steps = toolCalls.Count == 0
            ? [new StepView(1, null, [], [], answer, Verdict.Complete, "done", new TokenUsage(tokens, 0), "agentry-offline")]
            : [new StepView(1, "using tools", toolCalls, outcomes, null, Verdict.Continue, "go on", new TokenUsage(tokens / 2, 0), "agentry-offline"),
               new StepView(2, null, [], [], answer, Verdict.Complete, "done", new TokenUsage(tokens / 2, 0), "agentry-offline")];
        return new RunView(Guid.NewGuid(), true, "default", "assistant", "goal", status, answer, reason, new TokenUsage(tokens, 0), steps, TotalCost: cost);
    }
}
