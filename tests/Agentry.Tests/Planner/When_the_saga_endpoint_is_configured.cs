using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using Agentry.Planner.StateMachines;
using MassTransit;

namespace Agentry.Tests.Planner;

/// The saga's definition reads the events to partition by run from the machine, so no event can be
/// left out of the one-message-per-run ordering (ResumeRun and CloseRun once were).
public sealed class When_the_saga_endpoint_is_configured
{
    [Test]
    public void Should_partition_every_event_the_machine_declares()
    {
        var machine = new AgentRunStateMachine(new Agentry.Agents.Pinning.PinnedAgents(TestAgents.Catalog(), new Agentry.Agents.Pinning.InMemoryAgentDefinitionStore(), ShippedTools.Catalog), new InMemoryRunDeadlines(), TimeProvider.System);
        var declared = typeof(AgentRunStateMachine).GetProperties()
            .Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(Event<>))
            .Select(p => p.PropertyType.GetGenericArguments()[0])
            .ToList();

        var partitioned = AgentRunSagaDefinition.PartitionedMessages(machine);

        Assert.That(declared, Has.Count.EqualTo(13), "the machine's events were not found");
        Assert.That(partitioned, Is.EquivalentTo(declared));
        Assert.That(partitioned, Does.Contain(typeof(ResumeRun)).And.Contain(typeof(CloseRun)).And.Contain(typeof(MoveRunDefinition)));
    }
}
