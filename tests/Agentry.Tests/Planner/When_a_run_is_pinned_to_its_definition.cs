using Agentry.Agents.Pinning;
using Agentry.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Planner;

/// The saga pins the agent's definition when the run starts, every step message carries its hash,
/// and a move waits for the next step boundary and brings the new definition's limits.
public sealed class When_a_run_is_pinned_to_its_definition : AgentRunSagaFixture
{
    // The fixture's agent is Assistant(maxSteps: 3, deadline: 30s); this is its next version.
    private const string Next = """
        description: Test assistant, next version
        instructions: Use the tools, carefully.
        tools: [calculator]
        limits: { max_steps: 6, max_tokens: 2000, deadline: 90s }
        """;

    private static string Current => TestAgents.Assistant(maxSteps: 3, maxTokens: 1_000, deadline: "30s").Hash!;

    private async Task<string> KeepNextAsync()
    {
        var hash = AgentDefinitionHash.Of(Next);
        await Provider.GetRequiredService<IAgentDefinitionStore>().KeepAsync(hash, Next, CancellationToken.None);
        return hash;
    }

    [Test]
    public async Task Should_pin_the_current_definition_at_the_start_and_carry_its_hash_in_each_step()
    {
        var runId = await StartRunInState(m => m.Acting);

        Assert.That(Saga.Sagas.Contains(runId)!.AgentHash, Is.EqualTo(Current));
        Assert.That((await PublishedOne<ContextRequested>(m => m.RunId == runId)).AgentHash, Is.EqualTo(Current));
        Assert.That((await PublishedOne<StepPlanned>(m => m.RunId == runId)).AgentHash, Is.EqualTo(Current));
        var stored = await Provider.GetRequiredService<IAgentDefinitionStore>().FindAsync(Current, CancellationToken.None);
        Assert.That(AgentDefinitionHash.Of(stored!), Is.EqualTo(Current), "kept in the store before any message carried it");
    }

    [Test]
    public async Task Should_move_at_the_next_step_boundary_with_the_new_limits()
    {
        var runId = await StartRunInState(m => m.Acting);
        var next = await KeepNextAsync();
        var deadline = Saga.Sagas.Contains(runId)!.Deadline;

        await Harness.Bus.Publish(new MoveRunDefinition(runId, Tenant, next, "alice"));
        await Eventually.Until(() => Task.FromResult(Saga.Sagas.Contains(runId)!.MoveToAgentHash), "the move to wait in the run");
        Assert.That(Saga.Sagas.Contains(runId)!.AgentHash, Is.EqualTo(Current), "the step in flight keeps its definition");
        await Harness.Bus.Publish(Results(runId, 1));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));

        var second = await PublishedOne<ContextRequested>(m => m.RunId == runId && m.Step == 2);
        Assert.That(second.AgentHash, Is.EqualTo(next));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.AgentHash, run.MoveToAgentHash, run.MaxSteps, run.MaxTokens), Is.EqualTo((next, (string?)null, 6, 2000)));
        Assert.That(run.Deadline, Is.EqualTo(deadline + TimeSpan.FromSeconds(60)), "the deadline moves by the difference between the definitions");
    }

    [Test]
    public async Task Should_keep_the_limits_the_goal_set_when_moved()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?", Limits: new RunLimits(MaxSteps: 2)));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await AdvanceTo(runId, m => m.Acting);
        var next = await KeepNextAsync();

        await Harness.Bus.Publish(new MoveRunDefinition(runId, Tenant, next, "alice"));
        await Eventually.Until(() => Task.FromResult(Saga.Sagas.Contains(runId)!.MoveToAgentHash), "the move to wait in the run");
        await Harness.Bus.Publish(Results(runId, 1));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));

        await PublishedOne<ContextRequested>(m => m.RunId == runId && m.Step == 2);
        Assert.That((Saga.Sagas.Contains(runId)!.MaxSteps, Saga.Sagas.Contains(runId)!.MaxTokens), Is.EqualTo((2, 2000)));
    }

    [Test]
    public async Task Should_ignore_a_move_of_another_tenant_or_of_a_finished_run()
    {
        var runId = await StartRunInState(m => m.Acting);
        var next = await KeepNextAsync();

        await Harness.Bus.Publish(new MoveRunDefinition(runId, "tenant-b", next, "mallory"));
        await Quiet();
        Assert.That(Saga.Sagas.Contains(runId)!.MoveToAgentHash, Is.Null);

        await Harness.Bus.Publish(Results(runId, 1));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Fail));
        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        await Harness.Bus.Publish(new MoveRunDefinition(runId, Tenant, next, "alice"));
        await Quiet();
        Assert.That((Saga.Sagas.Contains(runId)!.AgentHash, Saga.Sagas.Contains(runId)!.MoveToAgentHash), Is.EqualTo((Current, (string?)null)));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).AgentHash, Is.EqualTo(Current), "the end names the definition");
    }
}
