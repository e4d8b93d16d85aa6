using Agentry.Contracts;
using Agentry.Planner.Tenants;
using MassTransit;

namespace Agentry.Planner.StateMachines;

/// A tenant's runs running at once are capped (Tenants:MaxConcurrentRuns): a run holds one of its
/// tenant's slots from its start to its end, and a goal that finds them all held is not started.
/// A sub-agent's run takes none: its parent's slot bounds it, and a parent at the cap waiting for
/// a child it was refused would never end.
internal sealed class RunSlots(ITenantRunSlots slots, TenantOptions options)
{
    // How long past its deadline a run's slot is kept when the run never gave it back. The deadline
    // fails the run and frees the slot within a poll of the deadline monitor; the grace covers
    // Planners being down or restarting meanwhile, and is short enough for a lost slot to come back
    // soon.
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    /// Whether the goal's run may start: it takes a slot held until its deadline and the grace.
    /// A goal delivered again whose run took its slot before the Planner died takes the same one.
    public async Task<bool> TryTake(BehaviorContext<AgentRunState, GoalReceived> c, DateTimeOffset deadline)
    {
        var tenant = ServiceDefaults.Extensions.TenantOf(c.Message.TenantId);
        var (max, _) = options.MaxConcurrentRunsOf(tenant);
        if (c.Message.ParentRunId is not null || max <= 0)
        {
            return true;
        }

        c.Saga.HoldsTenantSlot = await slots.TryTakeAsync(tenant, c.Saga.CorrelationId, max, deadline + Grace, c.CancellationToken);
        return c.Saga.HoldsTenantSlot;
    }

    /// Why the run was not started, with what to do about it.
    public string RefusedReason(string tenant)
    {
        var (max, setting) = options.MaxConcurrentRunsOf(tenant);
        return $"Tenant '{tenant}' is at its limit of {max} concurrent runs ({setting}); this run was not started. "
            + $"Start it again when one of its runs has ended, or raise the limit with {TenantOptions.Section}:Limits:{tenant}:MaxConcurrentRuns (0: no limit).";
    }

    /// A resumed run runs to its new deadline.
    public Task Renew<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Saga.HoldsTenantSlot ? slots.HoldAsync(c.Saga.TenantId, c.Saga.CorrelationId, c.Saga.Deadline + Grace, c.CancellationToken) : Task.CompletedTask;

    /// An escalated run keeps its slot while it waits for a person, who may resume it.
    public Task HoldWhileEscalated<T>(BehaviorContext<AgentRunState, T> c)
        where T : class =>
        c.Saga.HoldsTenantSlot ? slots.HoldAsync(c.Saga.TenantId, c.Saga.CorrelationId, until: null, c.CancellationToken) : Task.CompletedTask;

    public async Task Release<T>(BehaviorContext<AgentRunState, T> c)
        where T : class
    {
        if (c.Saga.HoldsTenantSlot)
        {
            await slots.ReleaseAsync(c.Saga.TenantId, c.Saga.CorrelationId, c.CancellationToken);
            c.Saga.HoldsTenantSlot = false;
        }
    }
}
