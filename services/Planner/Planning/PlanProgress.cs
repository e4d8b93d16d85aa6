using Agentry.Contracts;

namespace Agentry.Planner.Planning;

/// Which plan steps run next. The saga and the planning call both ask this, so they agree on the
/// wave a new plan starts with without either telling the other.
public static class PlanProgress
{
    /// Every step not done whose dependencies are all done: they run in parallel, as one saga step.
    public static IReadOnlyList<int> NextWave(Plan plan, IReadOnlyCollection<int> done) =>
        plan.Steps
            .Where(s => !done.Contains(s.Number) && s.DependsOn.All(done.Contains))
            .Select(s => s.Number)
            .ToList();
}
