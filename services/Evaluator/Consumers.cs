using Agentry.Contracts;
using MassTransit;

namespace Agentry.Evaluator;

/// Judges a step that ended in a final answer.
public sealed class FinalAnswerConsumer : IConsumer<StepPlanned>
{
    public Task Consume(ConsumeContext<StepPlanned> context)
    {
        if (context.Message.ToolCalls.Count > 0)
        {
            return Task.CompletedTask;
        }

        using var telemetry = EvaluationTelemetry.Start(context.Message.RunId, context.Message.Step);
        return context.Publish(telemetry.Judged(Rules.JudgeAnswer(context.Message)));
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
