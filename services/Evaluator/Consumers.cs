using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Pinning;
using MassTransit;

namespace Agentry.Evaluator;

/// Judges a step that ended in a final answer: by the rules, then, for agents that turn it on, by
/// the model judge.
public sealed class FinalAnswerConsumer(PinnedAgents agents, ModelJudge judge) : IConsumer<StepPlanned>
{
    public async Task Consume(ConsumeContext<StepPlanned> context)
    {
        var step = context.Message;
        // A replay's decision is compared with the recorded one, not judged (docs/durability.md).
        if (step.ToolCalls.Count > 0 || step.Replay)
        {
            return;
        }

        using var telemetry = EvaluationTelemetry.Start(step.RunId, step.Step);
        var verdict = Rules.JudgeAnswer(step);
        if (verdict.Verdict == Verdict.Complete && await agents.FindAsync(step.Agent, step.AgentHash, context.CancellationToken) is { Evaluation.Judge: true } agent)
        {
            verdict = await judge.JudgeAsync(step, agent, context.CancellationToken);
        }

        await context.Publish(telemetry.Judged(verdict));
    }
}

/// Judges a step once its tool results are in.
public sealed class ToolResultConsumer(ICallHistory history) : IConsumer<ToolResult>
{
    public async Task Consume(ConsumeContext<ToolResult> context)
    {
        var result = context.Message;
        using var telemetry = EvaluationTelemetry.Start(result.RunId, result.Step);
        var earlier = await history.RecordAsync(result.RunId, result.Step, Rules.Fingerprints(result), context.CancellationToken);
        await context.Publish(telemetry.Judged(Rules.JudgeResults(result, earlier)));
    }
}

/// Forgets a run's call history when the run ends.
public sealed class RunEndedConsumer(ICallHistory history) : IConsumer<IRunEnded>
{
    public Task Consume(ConsumeContext<IRunEnded> context) => history.ForgetAsync(context.Message.RunId, context.CancellationToken);
}
