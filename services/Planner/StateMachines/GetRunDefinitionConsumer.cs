using Agentry.Agents.Pinning;
using Agentry.Contracts;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// Which definition a run acts on, read from the saga's store without going through the machine: a
/// read never takes part in the run's transitions (nor conflicts with them in Redis). When the
/// current definition differs, it is kept in the definition store, so that a move to it, which
/// names its hash, finds it in every service.
public sealed class GetRunDefinitionConsumer(ILoadSagaRepository<AgentRunState> runs, PinnedAgents agents) : IConsumer<GetRunDefinition>
{
    public async Task Consume(ConsumeContext<GetRunDefinition> context)
    {
        var runId = context.Message.RunId;
        if (await runs.Load(runId) is not { } run || string.IsNullOrEmpty(run.CurrentState) || run.CurrentState == "Initial")
        {
            await context.RespondAsync(new RunDefinition(runId, Found: false));
            return;
        }

        var current = agents.Catalog.Find(run.Agent);
        if (current is not null && current.Hash != run.AgentHash)
        {
            await agents.KeepAsync(current, context.CancellationToken);
        }

        var finished = run.CurrentState is nameof(AgentRunStateMachine.Completed) or nameof(AgentRunStateMachine.Failed) or nameof(AgentRunStateMachine.Cancelled);
        await context.RespondAsync(new RunDefinition(
            runId,
            Found: true,
            run.TenantId,
            run.Agent,
            run.CurrentState,
            finished,
            run.AgentHash,
            current?.Hash,
            run.MoveToAgentHash,
            DiffersFromCurrent: run.AgentHash is not null && run.AgentHash != current?.Hash));
    }
}
