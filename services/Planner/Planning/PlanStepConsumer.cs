using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Planner.Deadlines;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Planner.Planning;

/// The planning step. ReAct: asks the model for the next step, offering the agent's tools as
/// functions with auto-invocation off. Plan-and-execute (the context carries a PlanRequest): does
/// what the saga asked through PlanAndExecutePlanner. Either way the result is proposed to the
/// saga. The agent's chain of models, the cache and the resilience are the ModelGateway's.
public sealed partial class PlanStepConsumer(
    ModelGateway models,
    ChatModelInfo modelInfo,
    PinnedAgents agents,
    AgentToolPlugins plugins,
    PlanAndExecutePlanner planAndExecute,
    ToolCallReplies toolCalls,
    ModelPrices prices,
    IOptions<PlannerOptions> options,
    ILogger<PlanStepConsumer> logger) : IConsumer<ContextLoaded>
{
    public async Task Consume(ConsumeContext<ContextLoaded> context)
    {
        var message = context.Message;
        AgentDefinition? agent;
        try
        {
            agent = await agents.FindAsync(message.Agent, message.AgentHash, context.CancellationToken);
        }
        catch (PinnedDefinitionException e)
        {
            await Propose(context, error: e.Message);
            return;
        }

        if (agent is null)
        {
            await Propose(context, error: agents.Catalog.DescribeUnknown(message.Agent));
            return;
        }

        // Named on the telemetry and on a failed step; the chain is resolved once per step.
        var primary = PrimaryModel(agent);
        if (message.PlanRequest is { } request)
        {
            await ProposeFromPlan(context, agent, request, primary);
            return;
        }

        var kernel = new Kernel();
        var settings = new OpenAIPromptExecutionSettings { Temperature = agent.Model.Temperature ?? 0 };
        if (agent.Tools.Count > 0)
        {
            kernel.Plugins.Add(plugins.For(agent));
            settings.FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false);
        }

        CheckedReply<ModelReply> reply;
        using var telemetry = StartTelemetry(message, primary);
        try
        {
            // Invalid tool arguments are re-asked here, with the error shown to the model, rather
            // than spending a whole step (tool round trip, evaluation) on a call that cannot run.
            reply = await StructuredReplies.AskAsync(
                (history, token) => models.AskAsync(agent.Model, history, settings, kernel, token),
                AgentChat.ToChatHistory(message.Messages), toolCalls.Check, options.Value.MaxReasks, toolCalls.ShowProblems, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            await ProposeFailure(context, telemetry, e, primary);
            return;
        }

        var cost = prices.CostOf(reply.Attempts);
        telemetry.Succeeded(reply.Last.Model, reply.Usage, cost);
        if (!reply.IsValid)
        {
            LogInvalidReply(logger, message.RunId, message.Step, reply.Attempts.Count, reply.Problem);
            await Propose(context,
                error: $"the model proposed invalid tool arguments {Times(reply.Attempts.Count)} ({options.Value.MaxReasks} re-asks allowed): {reply.Problem}",
                reply.Last.Model, reply.Usage, cost);
            return;
        }

        var step = reply.Value!;
        await Publish(context, new StepProposed(
            message.RunId, message.TenantId, message.Step, step.Thought, step.ToolCalls, step.FinalAnswer, reply.Usage, reply.Last.Model,
            CacheHit: reply.CacheHit, Cost: cost));
    }

    private async Task ProposeFromPlan(ConsumeContext<ContextLoaded> context, AgentDefinition agent, PlanRequest request, string primary)
    {
        var message = context.Message;
        PlanAndExecutePlanner.Proposal proposal;
        using var telemetry = StartTelemetry(message, primary);
        try
        {
            proposal = await planAndExecute.ProposeAsync(agent, message, request, context.CancellationToken);
            telemetry.Succeeded(proposal.Model ?? primary, proposal.Usage, proposal.Cost);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            await ProposeFailure(context, telemetry, e, primary);
            return;
        }

        await Publish(context, new StepProposed(
            message.RunId, message.TenantId, message.Step, proposal.Thought, proposal.ToolCalls, proposal.FinalAnswer, proposal.Usage,
            proposal.Model ?? primary, proposal.Error, proposal.CacheHit, proposal.Plan, proposal.Cost));
    }

    private ModelCallTelemetry StartTelemetry(ContextLoaded message, string primary) =>
        ModelCallTelemetry.Start(new ChatModelInfo(primary, modelInfo.IsOffline), message.RunId, message.Step);

    /// A model call that threw: recorded on the span, logged, and proposed as the step's error.
    private Task ProposeFailure(ConsumeContext<ContextLoaded> context, ModelCallTelemetry telemetry, Exception e, string primary)
    {
        telemetry.Failed(e);
        LogModelCallFailed(logger, context.Message.RunId, context.Message.Step, e);
        return Propose(context, error: e is ModelCallException ? e.Message : $"The model's reply could not be used: {e.Message}", primary);
    }

    private string PrimaryModel(AgentDefinition agent)
    {
        try
        {
            return models.Describe(models.Chain(agent.Model)[0]);
        }
        catch (InvalidOperationException)
        {
            return modelInfo.Name;
        }
    }

    private Task Propose(ConsumeContext<ContextLoaded> context, string error, string? model = null, TokenUsage? usage = null, decimal cost = 0) =>
        Publish(context, new StepProposed(
            context.Message.RunId, context.Message.TenantId, context.Message.Step, null, [], null, usage ?? TokenUsage.None, model ?? modelInfo.Name, error, Cost: cost));

    /// Every proposal carries what building its context spent (a summary), so that the saga counts it
    /// with the step it accepts, failed or not.
    private static Task Publish(ConsumeContext<ContextLoaded> context, StepProposed proposal) =>
        context.Publish(proposal with { ContextUsage = context.Message.Usage, ContextCost = context.Message.Cost });

    private static string Times(int count) => count == 1 ? "once" : $"{count} times";

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model's reply for run {RunId} step {Step} was still invalid after {Attempts} attempts: {Problem}")]
    private static partial void LogInvalidReply(ILogger logger, Guid runId, int step, int attempts, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model call for run {RunId} step {Step} failed.")]
    private static partial void LogModelCallFailed(ILogger logger, Guid runId, int step, Exception exception);
}
