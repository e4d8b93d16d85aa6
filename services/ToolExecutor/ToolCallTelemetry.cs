using System.Diagnostics;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.ToolExecutor;

/// One span per tool call (GenAI execute_tool), and the tool metrics. A call answered from the
/// ledger (a redelivered step) gets a span marked replayed and is not counted again.
internal static class ToolCallTelemetry
{
    /// The policy that refused a call (tools, allowed_hosts, read_only, max_calls, max_depth, max_fan_out).
    public const string PolicyTag = "agentry.tool.policy";

    /// The child run a sub-agent call started.
    public const string ChildRunTag = "agentry.sub_agent.run_id";

    public static Activity? Start(ToolCall call, StepPlanned step) => Start(call.Tool, call.CallId, step.RunId, step.Step);

    public static Activity? Start(string tool, string callId, Guid runId, int step) =>
        StartStage($"execute_tool {tool}", Stages.Act, runId, step)?
            .SetTag(Tags.GenAiOperation, "execute_tool")
            .SetTag(Tags.GenAiToolName, tool)
            .SetTag(Tags.GenAiToolCallId, callId);

    /// A call refused before it ran; the policy names the rule, the outcome's error says why.
    public static void Refused(Activity? span, ToolOutcome outcome, string? policy)
    {
        span?.SetTag(PolicyTag, policy);
        Ran(span, outcome);
    }

    /// A sub-agent call whose child run was started; its outcome gets a span of its own when the child ends.
    public static void ChildStarted(Activity? span, Guid childRunId) =>
        span?.SetTag(Tags.ToolOutcome, "sub_agent_started").SetTag(ChildRunTag, childRunId.ToString());

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
