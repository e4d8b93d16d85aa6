using MassTransit;

namespace Agentry.Tests.Planner.Persistence;

/// A saga whose every message changes it, so that a lost update shows as a missing number.
public sealed class TallyState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public int Version { get; set; }
    public string CurrentState { get; set; } = "";
    public int Count { get; set; }
    public List<int> Numbers { get; set; } = [];
}

public sealed record TallyCounted(Guid TallyId, int Number);

public sealed class TallyStateMachine : MassTransitStateMachine<TallyState>
{
    public TallyStateMachine()
    {
        InstanceState(x => x.CurrentState);
        Event(() => Counted, e => e.CorrelateById(c => c.Message.TallyId));

        Initially(When(Counted).Then(Add).TransitionTo(Counting));
        During(Counting, When(Counted).Then(Add));
    }

    public State Counting { get; private set; } = null!;

    public Event<TallyCounted> Counted { get; private set; } = null!;

    private static void Add(BehaviorContext<TallyState, TallyCounted> context)
    {
        context.Saga.Count++;
        context.Saga.Numbers.Add(context.Message.Number);
    }
}
