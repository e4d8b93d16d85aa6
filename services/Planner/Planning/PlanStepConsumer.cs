using Agentry.Contracts;
using Agentry.Llm;
using Agentry.ServiceDefaults.Agents;
using MassTransit;
using Microsoft.Extensions.Logging;
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
    AgentCatalog agents,
    AgentToolPlugins plugins,
    PlanAndExecutePlanner planAndExecute,
    ILogger<PlanStepConsumer> logger) : IConsumer<ContextLoaded>
{
    public async Task Consume(ConsumeContext<ContextLoaded> context)
    {
        var message = context.Message;
        var agent = agents.Find(message.Agent);
        if (agent is null)
        {
            await Propose(context, error: agents.DescribeUnknown(message.Agent));
            return;
        }

        if (message.PlanRequest is { } request)
        {
            await ProposeFromPlan(context, agent, request);
            return;
        }

        var kernel = new Kernel();
        var settings = new OpenAIPromptExecutionSettings { Temperature = agent.Model.Temperature ?? 0 };
        if (agent.Tools.Count > 0)
        {
            kernel.Plugins.Add(plugins.For(agent));
            settings.FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false);
        }

        ModelAnswer answer;
        using var telemetry = ModelCallTelemetry.Start(new ChatModelInfo(PrimaryModel(agent), modelInfo.IsOffline), message.RunId, message.Step);
        try
        {
            answer = await models.AskAsync(agent.Model, AgentChat.ToChatHistory(message.Messages), settings, kernel, context.CancellationToken);
            telemetry.Succeeded(answer.Model, answer.Reply.Usage);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            telemetry.Failed(e);
            LogModelCallFailed(logger, message.RunId, message.Step, e);
            await Propose(context, error: e is ModelCallException ? e.Message : $"The model's reply could not be used: {e.Message}", PrimaryModel(agent));
            return;
        }

        var reply = answer.Reply;
        await context.Publish(new StepProposed(
            message.RunId, message.TenantId, message.Step, reply.Thought, reply.ToolCalls, reply.FinalAnswer, reply.Usage, answer.Model, CacheHit: answer.CacheHit));
    }

    private async Task ProposeFromPlan(ConsumeContext<ContextLoaded> context, AgentDefinition agent, PlanRequest request)
    {
        var message = context.Message;
        PlanAndExecutePlanner.Proposal proposal;
        try
        {
            proposal = await planAndExecute.ProposeAsync(agent, message, request, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            LogModelCallFailed(logger, message.RunId, message.Step, e);
            await Propose(context, error: e is ModelCallException ? e.Message : $"The model's reply could not be used: {e.Message}", PrimaryModel(agent));
            return;
        }

        await context.Publish(new StepProposed(
            message.RunId, message.TenantId, message.Step, proposal.Thought, proposal.ToolCalls, proposal.FinalAnswer, proposal.Usage,
            proposal.Model ?? PrimaryModel(agent), proposal.Error, proposal.CacheHit, proposal.Plan));
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

    private Task Propose(ConsumeContext<ContextLoaded> context, string error, string? model = null) =>
        context.Publish(new StepProposed(
            context.Message.RunId, context.Message.TenantId, context.Message.Step, null, [], null, TokenUsage.None, model ?? modelInfo.Name, error));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model call for run {RunId} step {Step} failed.")]
    private static partial void LogModelCallFailed(ILogger logger, Guid runId, int step, Exception exception);
}
