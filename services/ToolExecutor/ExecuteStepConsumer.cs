using System.Diagnostics;
using System.Text.Json;
using Agentry.Agents.Pinning;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.ServiceDefaults.Payloads;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.Agents.Tools;
using Agentry.ToolExecutor.SubAgents;
using Agentry.Tools;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.ToolExecutor;

/// Runs the tool calls of a step, all at once, and reports every outcome in one ToolResult.
/// A call that is refused or fails becomes an outcome with an error kind: it never fails the consume.
/// Every call is first held to the agent's permissions (the tools it lists and each tool's policy);
/// a sub-agent call starts a child run, and the step's ToolResult then waits for the child's end
/// (SubAgentRunEndedConsumer).
public sealed partial class ExecuteStepConsumer(
    ToolRegistry registry,
    IToolCallLedger ledger,
    PinnedAgents agents,
    ToolCallGuard guard,
    SubAgentCalls subAgents,
    PayloadStore payloads,
    ILogger<ExecuteStepConsumer> logger) : IConsumer<StepPlanned>
{
    /// A call's state after this delivery: its outcome, a child run still running, or neither
    /// (another ToolExecutor holds it).
    private readonly record struct CallState(ToolOutcome? Outcome, bool WaitingForChild = false);

    /// A refusal before the call ran, and the policy that refused it (for the trace).
    private sealed record Refusal(ToolOutcome Outcome, string? Policy);

    public async Task Consume(ConsumeContext<StepPlanned> context)
    {
        var step = context.Message;
        if (step.ToolCalls.Count == 0)
        {
            return;
        }

        // A replay's calls are decisions to compare with the recorded ones; the recorded results are
        // its history (docs/durability.md). No tool runs for it, side effects or not, and no result is
        // reported: the replay goes on without one.
        if (step.Replay)
        {
            LogReplayNotRun(logger, step.ToolCalls.Count, step.Step, step.RunId);
            return;
        }

        var cancellationToken = context.CancellationToken;
        var agent = await agents.FindAsync(step.Agent, step.AgentHash, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var depth = step.ToolCalls.Any(c => SubAgentTools.IsSubAgent(c.Tool)) ? await subAgents.DepthOfAsync(step.RunId, cancellationToken) : 0;

        // Permissions are checked one call at a time in the order of the calls, so that a limit
        // (max_calls, the fan-out) refuses the later calls of a step, the same ones on every delivery.
        // A call a person denied never runs, so it is not admitted: it uses none of a limit.
        var refusals = new Refusal?[step.ToolCalls.Count];
        var subAgentCalls = 0;
        for (var i = 0; i < step.ToolCalls.Count; i++)
        {
            var call = step.ToolCalls[i];
            if (Decided(step, call) is not null)
            {
                continue;
            }

            var fanOutIndex = SubAgentTools.IsSubAgent(call.Tool) ? subAgentCalls++ : -1;
            if (await ledger.FindAsync(step.RunId, call.CallId, cancellationToken) is null)
            {
                refusals[i] = await AdmitAsync(call, step, agent, depth, fanOutIndex, cancellationToken);
            }
        }

        var states = await Task.WhenAll(step.ToolCalls.Select((call, i) => RunOnceAsync(call, step, agent, refusals[i], depth, context, cancellationToken)));
        if (states.Any(s => s.Outcome is null && !s.WaitingForChild))
        {
            // Another ToolExecutor holds a call of this step and seems alive: wait for it to record the
            // outcome, or to be found dead, by trying again later (ExecuteStepConsumerDefinition).
            LogHeldElsewhere(logger, step.Step, step.RunId);
            throw new ToolCallHeldElsewhereException($"A call of step {step.Step} of run {step.RunId} is being run by another ToolExecutor.");
        }

        AgentryTelemetry.RecordStage(AgentryTelemetry.Stages.Act, started);
        if (states.Any(s => s.WaitingForChild))
        {
            // A child that ended before this delivery (a redelivered step) may have left this one last.
            await subAgents.TryCompleteStepAsync(step.RunId, step.TenantId, step.Agent, step.Step, step.MaxSteps, [.. step.ToolCalls.Select(c => c.CallId)], context, cancellationToken);
            LogWaitingForSubAgents(logger, states.Count(s => s.WaitingForChild), step.Step, step.RunId);
            return;
        }

        var outcomes = states.Select(s => s.Outcome!).ToList();
        await context.Publish(new ToolResult(step.RunId, step.TenantId, step.Agent, step.Step, step.MaxSteps, outcomes));
        LogStepExecuted(logger, outcomes.Count, step.Step, step.RunId, outcomes.Count(o => !o.Succeeded));
    }

    /// Why the call may not run, or null: an unknown tool, one the agent does not list, invalid
    /// arguments, or the tool's policy (read_only, allowed_hosts, the sub-agent limits, max_calls).
    /// max_calls is counted last, so that a call refused for another reason uses none of it.
    private async Task<Refusal?> AdmitAsync(ToolCall call, StepPlanned step, AgentDefinition? agent, int depth, int fanOutIndex, CancellationToken cancellationToken)
    {
        Refusal Refuse(ToolErrorKind kind, string error, string? policy = null) =>
            new(new ToolOutcome(call.CallId, call.Tool, call.Arguments, "", kind, error, TimeSpan.Zero), policy);

        var subAgent = SubAgentTools.TryGetAgent(call.Tool, out var child);
        if (subAgent ? agents.Catalog.Find(child!) is null : registry.Find(call.Tool) is null)
        {
            return Refuse(ToolErrorKind.UnknownTool, subAgent ? $"There is no agent named '{child}' to call as {call.Tool}." : $"There is no tool named '{call.Tool}'.");
        }

        if (agent?.PolicyOf(call.Tool) is not { } policy)
        {
            return Refuse(ToolErrorKind.PermissionDenied, $"Permission denied: agent '{step.Agent}' may not use the tool '{call.Tool}': it is not in the agent's tools list.", "tools");
        }

        var problems = registry.Validate(call.Tool, call.Arguments);
        if (problems.Count > 0)
        {
            return Refuse(ToolErrorKind.InvalidArguments, $"Invalid arguments for {call.Tool}: {string.Join("; ", problems)}.");
        }

        if (policy.ReadOnly && registry.HasSideEffects(call.Tool, call.Arguments))
        {
            return Refuse(ToolErrorKind.PermissionDenied, $"Permission denied by the read_only policy: agent '{step.Agent}' may use {call.Tool} only for calls that change nothing, and this call would change something.", "read_only");
        }

        if (policy.AllowedHosts.Count > 0 && registry.Describe(call.Tool) is { ReachesHosts: true }
            && call.Arguments.TryGetProperty("url", out var url) && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var address)
            && !policy.AllowsHost(address))
        {
            return Refuse(ToolErrorKind.PermissionDenied, HttpTools.NotAllowedByPolicy(call.Tool, step.Agent, address, policy), "allowed_hosts");
        }

        if (subAgent && subAgents.Refusal(call.Tool, depth, fanOutIndex) is { } limit)
        {
            return Refuse(ToolErrorKind.PermissionDenied, limit.Error, limit.Policy);
        }

        if (policy.MaxCallsPerRun is { } max && !await ledger.CountCallAsync(step.RunId, call.Tool, call.CallId, max, cancellationToken))
        {
            return Refuse(ToolErrorKind.PermissionDenied, $"Permission denied by the max_calls policy: agent '{step.Agent}' may call {call.Tool} at most {max} time(s) per run, and this run has used them all.", "max_calls");
        }

        return null;
    }

    /// The call's state, run at most once for tools with side effects.
    private async Task<CallState> RunOnceAsync(ToolCall call, StepPlanned step, AgentDefinition? agent, Refusal? refusal, int depth, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        using var span = ToolCallTelemetry.Start(call, step);
        // A call a person denied (or whose approval timed out) is settled already: it never runs.
        if (Decided(step, call) is { } decided)
        {
            ToolCallTelemetry.Ran(span, decided);
            return new(decided);
        }

        if (await ledger.FindAsync(step.RunId, call.CallId, cancellationToken) is { } recorded)
        {
            ToolCallTelemetry.Replayed(span, recorded);
            return new(recorded);
        }

        if (refusal is not null)
        {
            await ledger.RecordAsync(step.RunId, refusal.Outcome, cancellationToken);
            ToolCallTelemetry.Refused(span, refusal.Outcome, refusal.Policy);
            return new(refusal.Outcome);
        }

        if (SubAgentTools.IsSubAgent(call.Tool))
        {
            ToolCallTelemetry.ChildStarted(span, await subAgents.StartAsync(call, step, depth, publish, cancellationToken));
            return new(null, WaitingForChild: true);
        }

        var sideEffects = registry.HasSideEffects(call.Tool, call.Arguments);
        switch (await ledger.ClaimAsync(step.RunId, call.CallId, takeOverInterrupted: !sideEffects, cancellationToken))
        {
            case CallClaim.RunningElsewhere:
                ToolCallTelemetry.HeldElsewhere(span);
                return new(null);
            case CallClaim.Interrupted:
                var interrupted = Interrupted(call);
                await ledger.RecordAsync(step.RunId, interrupted, cancellationToken);
                ToolCallTelemetry.Ran(span, interrupted);
                return new(interrupted);
            default:
                ToolOutcome outcome;
                try
                {
                    outcome = await RunAsync(call, step, agent!, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // This process gave up the call (the broker connection or the host went away): it
                    // must not keep a claim it is no longer working on. A call with side effects may
                    // have taken effect, so it is marked interrupted; any other is released to run again.
                    if (sideEffects)
                    {
                        await ledger.RecordAsync(step.RunId, Interrupted(call), CancellationToken.None);
                    }
                    else
                    {
                        await ledger.ReleaseAsync(step.RunId, call.CallId, CancellationToken.None);
                    }

                    throw;
                }

                await ledger.RecordAsync(step.RunId, outcome, cancellationToken);
                ToolCallTelemetry.Ran(span, outcome);
                return new(outcome);
        }
    }

    private static ToolOutcome? Decided(StepPlanned step, ToolCall call) =>
        step.DecidedOutcomes?.FirstOrDefault(o => o.CallId == call.CallId);

    private static ToolOutcome Interrupted(ToolCall call) =>
        new(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.Interrupted,
            $"The ToolExecutor running this {call.Tool} call stopped before it finished. The call was not repeated because {call.Tool} has side effects: check whether it took effect before calling it again.",
            TimeSpan.Zero);

    /// Runs an admitted call through the guard (time limit, circuit breaker, output cap).
    private async Task<ToolOutcome> RunAsync(ToolCall call, StepPlanned step, AgentDefinition agent, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var tool = registry.Find(call.Tool)!;
        var invocation = new ToolInvocation(step.RunId, step.TenantId, step.Agent, step.Step, call.CallId) { Policy = agent.PolicyOf(call.Tool)!, Sandbox = agent.Sandbox };
        var attempt = await guard.RunAsync(call.Tool, token => tool.InvokeAsync(call.Arguments, invocation, token), cancellationToken);
        // A large output is stored once, before the ledger records the outcome: the ledger, the
        // ToolResult and the run state all carry the reference (docs/durability.md).
        return await payloads.OutOfLineAsync(new(call.CallId, call.Tool, call.Arguments, attempt.Output, attempt.Kind, attempt.Error, clock.Elapsed), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step} of run {RunId} is being run by another ToolExecutor; waiting for its outcome.")]
    private static partial void LogHeldElsewhere(ILogger logger, int step, Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step} of run {RunId} waits for {Count} sub-agent run(s).")]
    private static partial void LogWaitingForSubAgents(ILogger logger, int count, int step, Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step} of run {RunId} is a replay's: its {Count} call(s) were not run.")]
    private static partial void LogReplayNotRun(ILogger logger, int count, int step, Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ran {Count} tool call(s) of step {Step} of run {RunId}; {Failed} failed.")]
    private static partial void LogStepExecuted(ILogger logger, int count, int step, Guid runId, int failed);
}

public sealed class ToolCallHeldElsewhereException(string message) : Exception(message);

/// A step whose call another ToolExecutor holds is tried again for long enough for that one to
/// finish, or for its liveness to expire (ToolExecutor:Redis:LivenessTimeout) if it was killed.
public sealed class ExecuteStepConsumerDefinition : ConsumerDefinition<ExecuteStepConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ExecuteStepConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<ToolCallHeldElsewhereException>();
            retry.Interval(60, TimeSpan.FromMilliseconds(500));
        });
}
