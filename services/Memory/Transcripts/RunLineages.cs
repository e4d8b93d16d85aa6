using Agentry.Contracts;

namespace Agentry.Memory;

/// The transcript side of forks and replays (docs/durability.md, decision 0031). A fork's transcript
/// starts as a copy of its parent's steps up to the step it forks at, written at its first context
/// request with the store's idempotent upserts, so a redelivered request copies nothing twice. A
/// replay's transcript holds its own new decisions; the context of each of its steps is built from
/// the parent's recorded steps before it (teacher forcing), so every decision is made from the same
/// history the parent had, with the parent's recorded tool results.
public sealed class RunLineages(ITranscriptStore store)
{
    /// The step whose context request records the run's start: 1, or a fork's first.
    public static bool IsFirstStep(ContextRequested request) =>
        request.Step == (request.Lineage is { Kind: LineageKind.Fork } fork ? fork.FromStep + 1 : 1);

    /// Before anything the request carries is recorded: the guidance given to a fork is recorded on
    /// the step it forks at, after that step is there.
    public async Task SeedAsync(ContextRequested request, CancellationToken cancellationToken)
    {
        if (request.Lineage is not { Kind: LineageKind.Fork } fork || fork.FromStep == 0 || request.Step != fork.FromStep + 1)
        {
            return;
        }

        var parent = await ParentAsync(request, fork, 0, cancellationToken);
        foreach (var step in parent.Steps.Where(s => s.Step <= fork.FromStep))
        {
            // The parent spent the tokens: the copy counts none.
            await store.RecordStepAsync(new StepPlanned(
                request.RunId, request.TenantId, request.Agent, step.Step, 0, step.Thought, step.ToolCalls, step.FinalAnswer,
                TokenUsage.None, step.Model ?? "", step.CacheHit, step.Plan, 0, request.Goal, UserId: request.UserId, AgentHash: request.AgentHash), cancellationToken);
            if (step.Outcomes.Count > 0)
            {
                await store.RecordToolResultAsync(new ToolResult(request.RunId, request.TenantId, request.Agent, step.Step, 0, step.Outcomes), cancellationToken);
            }

            if (step.Verdict is { } verdict)
            {
                await store.RecordVerdictAsync(new GoalEvaluated(request.RunId, request.TenantId, step.Step, verdict, step.VerdictReason ?? "", 1), cancellationToken);
            }

            // Guidance given after the fork's last step led the parent to its next step, which the fork plans anew.
            if (step.Guidance is { } guidance && step.Step < fork.FromStep)
            {
                await store.RecordGuidanceAsync(request.RunId, request.TenantId, step.Step, guidance, cancellationToken);
            }
        }
    }

    /// The run whose steps the context is built from: a replay's parent, its steps after afterStep (the
    /// replay's stored summary covers those before) up to the step before the one planned.
    public async Task<RunView> ContextOfAsync(ContextRequested request, RunView run, int afterStep, CancellationToken cancellationToken)
    {
        if (request.Lineage is not { Kind: LineageKind.Replay } replay)
        {
            return run;
        }

        var parent = await ParentAsync(request, replay, afterStep, cancellationToken);
        return run with { Steps = [.. parent.Steps.Where(s => s.Step < request.Step)] };
    }

    // A parent that is not there cannot become so by retrying: the run ends with the reason (RunFaulted
    // through the error queue). The Gateway checked it before the run started.
    private async Task<RunView> ParentAsync(ContextRequested request, RunLineage lineage, int afterStep, CancellationToken cancellationToken)
    {
        var parent = afterStep == 0
            ? await store.GetAsync(request.TenantId, lineage.ParentRunId, cancellationToken)
            : await store.GetRecentAsync(lineage.ParentRunId, afterStep, cancellationToken);
        return parent.Found && parent.TenantId == request.TenantId
            ? parent
            : throw new InvalidOperationException($"Run {request.RunId} is a {lineage.Kind.ToString().ToLowerInvariant()} of run {lineage.ParentRunId}, whose transcript this Memory does not hold (another tenant's, or removed).");
    }
}
