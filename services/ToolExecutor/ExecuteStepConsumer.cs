using System.Diagnostics;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Agents;
using Agentry.ServiceDefaults.Telemetry;
using Agentry.ServiceDefaults.Tools;
using Agentry.ToolExecutor.Tools;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Agentry.ToolExecutor;

/// Runs the tool calls of a step, all at once, and reports every outcome in one ToolResult.
/// A call that is refused or fails becomes an outcome with an error kind: it never fails the consume.
public sealed partial class ExecuteStepConsumer(
    ToolRegistry registry,
    IToolCallLedger ledger,
    AgentCatalog agents,
    ToolCallGuard guard,
    ILogger<ExecuteStepConsumer> logger) : IConsumer<StepPlanned>
{
    public async Task Consume(ConsumeContext<StepPlanned> context)
    {
        var step = context.Message;
        if (step.ToolCalls.Count == 0)
        {
            return;
        }

        var agent = agents.Find(step.Agent);
        var started = Stopwatch.GetTimestamp();
        var outcomes = await Task.WhenAll(step.ToolCalls.Select(call => RunOnceAsync(call, step, agent, context.CancellationToken)));
        if (outcomes.Any(o => o is null))
        {
            // Another ToolExecutor holds a call of this step and seems alive: wait for it to record the
            // outcome, or to be found dead, by trying again later (ExecuteStepConsumerDefinition).
            LogHeldElsewhere(logger, step.Step, step.RunId);
            throw new ToolCallHeldElsewhereException($"A call of step {step.Step} of run {step.RunId} is being run by another ToolExecutor.");
        }

        AgentryTelemetry.RecordStage(AgentryTelemetry.Stages.Act, started);
        await context.Publish(new ToolResult(step.RunId, step.TenantId, step.Agent, step.Step, step.MaxSteps, outcomes!));
        LogStepExecuted(logger, outcomes.Length, step.Step, step.RunId, outcomes.Count(o => !o!.Succeeded));
    }

    /// The call's outcome, run at most once for tools with side effects; null when another live
    /// process is running it.
    private async Task<ToolOutcome?> RunOnceAsync(ToolCall call, StepPlanned step, AgentDefinition? agent, CancellationToken cancellationToken)
    {
        using var span = ToolCallTelemetry.Start(call, step);
        // A call a person denied (or whose approval timed out) is settled already: it never runs.
        if (step.DecidedOutcomes?.FirstOrDefault(o => o.CallId == call.CallId) is { } decided)
        {
            ToolCallTelemetry.Ran(span, decided);
            return decided;
        }

        if (await ledger.FindAsync(step.RunId, call.CallId, cancellationToken) is { } recorded)
        {
            ToolCallTelemetry.Replayed(span, recorded);
            return recorded;
        }

        var sideEffects = registry.HasSideEffects(call.Tool, call.Arguments);
        switch (await ledger.ClaimAsync(step.RunId, call.CallId, takeOverInterrupted: !sideEffects, cancellationToken))
        {
            case CallClaim.RunningElsewhere:
                ToolCallTelemetry.HeldElsewhere(span);
                return null;
            case CallClaim.Interrupted:
                var interrupted = Interrupted(call);
                await ledger.RecordAsync(step.RunId, interrupted, cancellationToken);
                ToolCallTelemetry.Ran(span, interrupted);
                return interrupted;
            default:
                ToolOutcome outcome;
                try
                {
                    outcome = await RunAsync(call, step, agent, cancellationToken);
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
                return outcome;
        }
    }

    private static ToolOutcome Interrupted(ToolCall call) =>
        new(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.Interrupted,
            $"The ToolExecutor running this {call.Tool} call stopped before it finished. The call was not repeated because {call.Tool} has side effects: check whether it took effect before calling it again.",
            TimeSpan.Zero);

    private async Task<ToolOutcome> RunAsync(ToolCall call, StepPlanned step, AgentDefinition? agent, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        ToolOutcome Outcome(string output, ToolErrorKind kind = ToolErrorKind.None, string? error = null) =>
            new(call.CallId, call.Tool, call.Arguments, output, kind, error, clock.Elapsed);

        var tool = registry.Find(call.Tool);
        if (tool is null)
        {
            return Outcome("", ToolErrorKind.UnknownTool, $"There is no tool named '{call.Tool}'.");
        }

        if (agent is null || !agent.MayUse(call.Tool))
        {
            return Outcome("", ToolErrorKind.PermissionDenied, $"Agent '{step.Agent}' may not use the tool '{call.Tool}': it is not in the agent's tools list.");
        }

        var problems = registry.Validate(call.Tool, call.Arguments);
        if (problems.Count > 0)
        {
            return Outcome("", ToolErrorKind.InvalidArguments, $"Invalid arguments for {call.Tool}: {string.Join("; ", problems)}.");
        }

        var invocation = new ToolInvocation(step.RunId, step.TenantId, step.Agent, step.Step, call.CallId);
        var attempt = await guard.RunAsync(call.Tool, token => tool.InvokeAsync(call.Arguments, invocation, token), cancellationToken);
        return Outcome(attempt.Output, attempt.Kind, attempt.Error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step} of run {RunId} is being run by another ToolExecutor; waiting for its outcome.")]
    private static partial void LogHeldElsewhere(ILogger logger, int step, Guid runId);

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
