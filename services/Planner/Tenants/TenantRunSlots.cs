namespace Agentry.Planner.Tenants;

/// The runs of each tenant that hold one of its slots: a run takes one when it starts and gives it
/// back when it ends, so a tenant's slots are its runs running now. The in-memory store serves the
/// embedded mode; Redis replaces it in distributed mode, so that every Planner counts the same runs.
///
/// Every slot is held until a time, and a slot past it is dropped when the tenant's slots are next
/// counted. A run takes its slot before the saga has saved the run, and a Planner can die between
/// the two, or a run can be left unfinished (its messages in an error queue) and never give it
/// back: without a time such a slot would be lost for good, and enough of them would shut the
/// tenant out. The saga holds a running run's slot until the run's deadline and a grace (the
/// deadline ends the run, and so gives the slot back, well before), and an escalated run's for as
/// long as the run is kept.
public interface ITenantRunSlots
{
    /// Gives the run a slot held until `until`, unless the tenant's runs already hold `max` (more
    /// than 0). True when the run holds one, also when it held one already (a redelivered goal
    /// whose first delivery took the slot): its time is then moved to `until`.
    Task<bool> TryTakeAsync(string tenant, Guid runId, int max, DateTimeOffset until, CancellationToken cancellationToken);

    /// Holds the run's slot, taken or not, until `until`; null: for as long as the run's state is
    /// kept (an escalated run waiting for a person).
    Task HoldAsync(string tenant, Guid runId, DateTimeOffset? until, CancellationToken cancellationToken);

    /// Gives the run's slot back; nothing when it holds none.
    Task ReleaseAsync(string tenant, Guid runId, CancellationToken cancellationToken);

    /// How many slots the tenant's runs hold now.
    Task<int> CountAsync(string tenant, CancellationToken cancellationToken);
}

public sealed class InMemoryTenantRunSlots(TimeProvider clock) : ITenantRunSlots
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<Guid, DateTimeOffset>> _byTenant = new(StringComparer.Ordinal);

    public Task<bool> TryTakeAsync(string tenant, Guid runId, int max, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_gate)
        {
            var held = Held(tenant);
            if (!held.ContainsKey(runId) && held.Count >= max)
            {
                return Task.FromResult(false);
            }

            held[runId] = until;
            return Task.FromResult(true);
        }
    }

    // The embedded mode keeps finished runs as long as the process lives.
    public Task HoldAsync(string tenant, Guid runId, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Held(tenant)[runId] = until ?? DateTimeOffset.MaxValue;
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string tenant, Guid runId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_byTenant.TryGetValue(tenant, out var held) && held.Remove(runId) && held.Count == 0)
            {
                _byTenant.Remove(tenant);
            }
        }

        return Task.CompletedTask;
    }

    public Task<int> CountAsync(string tenant, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_byTenant.ContainsKey(tenant) ? Held(tenant).Count : 0);
        }
    }

    private Dictionary<Guid, DateTimeOffset> Held(string tenant)
    {
        if (!_byTenant.TryGetValue(tenant, out var held))
        {
            _byTenant[tenant] = held = [];
        }

        var now = clock.GetUtcNow();
        foreach (var expired in held.Where(h => h.Value <= now).Select(h => h.Key).ToList())
        {
            held.Remove(expired);
        }

        return held;
    }
}
