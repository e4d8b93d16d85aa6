using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Agentry.ToolExecutor.SubAgents;

public sealed class SubAgentOptions
{
    public const string Section = "Tools:SubAgents";

    /// How many levels of sub-agents may run below a top-level run (its children are level 1).
    [Range(1, 10)]
    public int MaxDepth { get; set; } = 3;

    /// How many sub-agents one step may start.
    [Range(1, 50)]
    public int MaxFanOut { get; set; } = 5;
}

/// Starts child runs for `agent:NAME` calls and turns their ends into the calls' outcomes. The parent
/// run stays in Acting meanwhile: its step's ToolResult goes out once every call of the step,
/// children included, has an outcome in the call ledger (one ToolResult per step, decision 0002).
public sealed class SubAgentCalls(
    ISubAgentRuns runs,
    IToolCallLedger ledger,
    IOptions<SubAgentOptions> options,
    IOptions<ToolExecutorOptions> toolOptions,
    TimeProvider clock)
{
    /// The child's run id, derived from the parent's run and call ids: a redelivered step starts
    /// the same child again, which the saga takes for the duplicate it is.
    public static Guid ChildRunId(Guid parentRunId, string callId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"agentry-sub-agent:{parentRunId:N}:{callId}"));
        hash[6] = (byte)((hash[6] & 0x0f) | 0x80); // version 8: application-defined
        hash[8] = (byte)((hash[8] & 0x3f) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    /// How many levels below its top-level run this run is (0: it is a top-level run).
    public async Task<int> DepthOfAsync(Guid runId, CancellationToken cancellationToken) =>
        (await runs.FindAsync(runId, cancellationToken))?.Depth ?? 0;

    /// Why this sub-agent call may not start a child, or null. fanOutIndex: its place among the
    /// step's sub-agent calls (0-based), so the same later calls are refused on every delivery.
    public (string Policy, string Error)? Refusal(string tool, int parentDepth, int fanOutIndex)
    {
        var settings = options.Value;
        if (parentDepth + 1 > settings.MaxDepth)
        {
            return ("max_depth", $"Permission denied by the sub-agent depth limit: this run is already {parentDepth} level(s) below its top-level run, and sub-agents may go at most {settings.MaxDepth} level(s) deep ({SubAgentOptions.Section}:MaxDepth). Answer with what you have instead of calling {tool}.");
        }

        return fanOutIndex >= settings.MaxFanOut
            ? ("max_fan_out", $"Permission denied by the sub-agent fan-out limit: one step may start at most {settings.MaxFanOut} sub-agents ({SubAgentOptions.Section}:MaxFanOut); this was call {fanOutIndex + 1}. Start the rest in a later step.")
            : null;
    }

    public async Task<Guid> StartAsync(ToolCall call, StepPlanned step, int parentDepth, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        SubAgentTools.TryGetAgent(call.Tool, out var agent);
        var child = new SubAgentRun(
            ChildRunId(step.RunId, call.CallId), step.RunId, step.TenantId, step.Agent, step.Step, step.MaxSteps,
            call.CallId, call.Tool, call.Arguments, [.. step.ToolCalls.Select(c => c.CallId)], parentDepth + 1, clock.GetUtcNow());
        // Recorded before the goal goes out, so the child's end always finds where to report.
        await runs.AddAsync(child, cancellationToken);
        await publish.Publish(new GoalReceived(
            child.ChildRunId, step.TenantId, agent!, call.Arguments.GetProperty("goal").GetString()!,
            Trigger: TriggerKind.SubAgent, ParentRunId: step.RunId, UserId: step.UserId), cancellationToken);
        return child.ChildRunId;
    }

    /// The outcome of the call that started the child, from however the child ended.
    public ToolOutcome OutcomeOf(SubAgentRun child, IRunEnded ended)
    {
        var (output, kind, error) = ended switch
        {
            RunCompleted completed => (completed.Answer, ToolErrorKind.None, (string?)null),
            RunFailed failed => ("", ToolErrorKind.Failed, $"The sub-agent run {child.ChildRunId} failed: {failed.Reason}"),
            RunEscalated escalated => ("", ToolErrorKind.Failed, $"The sub-agent run {child.ChildRunId} was handed to a person and gave no answer: {escalated.Reason}"),
            RunCancelled cancelled => ("", ToolErrorKind.Failed, $"The sub-agent run {child.ChildRunId} was cancelled: {cancelled.Reason}"),
            _ => ("", ToolErrorKind.Failed, $"The sub-agent run {child.ChildRunId} ended without an answer."),
        };
        var max = toolOptions.Value.MaxOutputChars;
        return new ToolOutcome(child.CallId, child.Tool, child.Arguments, ToolCallGuard.Cap(output, max), kind, error is null ? null : ToolCallGuard.Cap(error, max),
            clock.GetUtcNow() - child.StartedAt);
    }

    /// Publishes the step's ToolResult when every call of it has an outcome; false while some wait.
    /// Both the step's consumer and each child's end try, after recording their own outcomes, so
    /// the last of them publishes (two at once may both: ToolResult consumers take duplicates).
    public async Task<bool> TryCompleteStepAsync(Guid runId, string tenantId, string agent, int step, int maxSteps, IReadOnlyList<string> callIds, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        var outcomes = new List<ToolOutcome>(callIds.Count);
        foreach (var callId in callIds)
        {
            if (await ledger.FindAsync(runId, callId, cancellationToken) is not { } outcome)
            {
                return false;
            }

            outcomes.Add(outcome);
        }

        await publish.Publish(new ToolResult(runId, tenantId, agent, step, maxSteps, outcomes), cancellationToken);
        return true;
    }
}
