using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

/// Keeps a run's online grades with its record, so GET /runs/{id} shows them. On a queue of its own:
/// the grades come well after the run, and a backlog of transcripts need not hold them up.
public sealed class RunGradedConsumer(ITranscriptStore store) : IConsumer<RunGraded>
{
    public Task Consume(ConsumeContext<RunGraded> context) =>
        store.RecordOnlineEvaluationAsync(context.Message, context.CancellationToken);
}
