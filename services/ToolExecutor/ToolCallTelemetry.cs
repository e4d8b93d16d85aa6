using System.Diagnostics;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.ToolExecutor;

/// One span per tool call (GenAI execute_tool), and the tool metrics. A call answered from the
/// ledger (a redelivered step) gets a span marked replayed and is not counted again.
internal static class ToolCallTelemetry
{
    public static Activity? Start(ToolCall call, StepPlanned step) =>
        StartStage($"execute_tool {call.Tool}", Stages.Act, step.RunId, step.Step)?
            .SetTag(Tags.GenAiOperation, "execute_tool")
            .SetTag(Tags.GenAiToolName, call.Tool)
            .SetTag(Tags.GenAiToolCallId, call.CallId);

    public static void Replayed(Activity? span, ToolOutcome outcome)
    {
        span?.SetTag(Tags.ToolReplayed, true);
        Describe(span, outcome);
    }

    public static void HeldElsewhere(Activity? span) => span?.SetTag(Tags.ToolOutcome, "held_elsewhere");

    public static void Ran(Activity? span, ToolOutcome outcome)
    {
        Describe(span, outcome);
        var tool = new KeyValuePair<string, object?>(Tags.GenAiToolName, outcome.Tool);
        ToolCalls.Add(1, tool, new(Tags.ToolOutcome, OutcomeName(outcome)));
        ToolDuration.Record(outcome.Duration.TotalSeconds, tool);
        if (!outcome.Succeeded)
        {
            ToolErrors.Add(1, tool, new(Tags.ErrorType, outcome.ErrorKind.ToString()));
        }
    }

    private static void Describe(Activity? span, ToolOutcome outcome)
    {
        span?.SetTag(Tags.ToolOutcome, OutcomeName(outcome));
        if (!outcome.Succeeded)
        {
            // The error text can quote the arguments; the kind says enough for a trace.
            span.Fail(outcome.ErrorKind.ToString());
        }
    }

    private static string OutcomeName(ToolOutcome outcome) => outcome.Succeeded ? "ok" : outcome.ErrorKind.ToString();
}
