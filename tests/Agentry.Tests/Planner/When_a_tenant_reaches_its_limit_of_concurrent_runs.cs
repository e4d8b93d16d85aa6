using Agentry.Contracts;
using Agentry.Planner.Tenants;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Planner;

/// Tenants:MaxConcurrentRuns at 2: the saga starts a tenant's runs while it holds fewer, fails the
/// next at once with the reason, and every end of a run gives its slot back.
public sealed class When_a_tenant_reaches_its_limit_of_concurrent_runs : AgentRunSagaFixture
{
    private const string OtherTenant = "tenant-b";

    private const string Reason = "Tenant 'tenant-a' is at its limit of 2 concurrent runs (Tenants:MaxConcurrentRuns); this run was not started. "
        + "Start it again when one of its runs has ended, or raise the limit with Tenants:Limits:tenant-a:MaxConcurrentRuns (0: no limit).";

    private InMemoryTenantRunSlots _slots = null!;

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        _slots = new InMemoryTenantRunSlots(Clock);
        services.AddSingleton<ITenantRunSlots>(_slots);
        services.Configure<TenantOptions>(o => o.MaxConcurrentRuns = 2);
    }

    private Task<int> Held(string tenant = Tenant) => _slots.CountAsync(tenant, CancellationToken.None);

    private async Task<Guid> Started(string tenant = Tenant, Guid? parent = null)
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, tenant, "assistant", "What is 2 + 3?", ParentRunId: parent));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId), $"a run of {tenant} did not start");
        return runId;
    }

    [Test]
    public async Task Should_fail_a_third_run_with_the_reason_start_another_tenants_and_start_again_once_one_ends()
    {
        var first = await Started();
        await Started();

        var third = await StartRun();

        Assert.That(await Saga.Exists(third, m => m.Failed), Is.EqualTo(third));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == third)).Reason, Is.EqualTo(Reason));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == third), Is.Empty, "no other stage works on it");
        Assert.That(Saga.Sagas.Contains(third)!.Goal, Is.EqualTo("What is 2 + 3?"), "the refused run keeps its goal, to read and start again");
        await Started(OtherTenant);

        await Complete(first);
        await Started();
        Assert.That((await Held(), await Held(OtherTenant)), Is.EqualTo((2, 1)));
    }

    [Test]
    public async Task Should_not_refuse_a_sub_agents_run_at_the_limit()
    {
        var parent = await Started();
        await Started();

        await Started(parent: parent);
        await Started(parent: parent);

        Assert.That(await Held(), Is.EqualTo(2), "a sub-agent's run took a slot");
        Assert.That(PublishedMessages<RunFailed>(), Is.Empty);
    }

    [Test]
    public async Task Should_not_refuse_a_goal_delivered_again_at_the_limit()
    {
        // The first delivery took the slot, and the Planner died before it saved the run.
        var crashed = NewId.NextGuid();
        await _slots.TryTakeAsync(Tenant, crashed, 2, Clock.GetUtcNow() + TimeSpan.FromMinutes(1), CancellationToken.None);
        var running = await Started();

        await Harness.Bus.Publish(new GoalReceived(crashed, Tenant, "assistant", "What is 2 + 3?"));
        await Harness.Bus.Publish(new GoalReceived(running, Tenant, "assistant", "What is 2 + 3?"));

        Assert.That(await Saga.Exists(crashed, m => m.LoadingContext), Is.EqualTo(crashed));
        await Quiet();
        Assert.That(Saga.Sagas.Contains(running)!.CurrentState, Is.EqualTo("LoadingContext"));
        Assert.That(PublishedMessages<RunFailed>(), Is.Empty);
        Assert.That(await Held(), Is.EqualTo(2));
    }

    [TestCase("completed")]
    [TestCase("failed")]
    [TestCase("timed out")]
    [TestCase("cancelled")]
    [TestCase("escalated, then closed")]
    [TestCase("escalated, then cancelled")]
    [TestCase("escalated, resumed, then completed")]
    public async Task Should_give_the_slot_back_however_the_run_ends(string end)
    {
        var runId = await Started();
        Assert.That(await Held(), Is.EqualTo(1));

        switch (end)
        {
            case "completed":
                await Complete(runId);
                break;
            case "failed":
                await Harness.Bus.Publish(new StepProposed(runId, Tenant, 1, null, [], null, TokenUsage.None, "test-model", "HTTP 401 Unauthorized"));
                Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
                break;
            case "timed out":
                Clock.Advance(TimeSpan.FromSeconds(31));
                await DeadlineMonitor().PublishDueAsync(CancellationToken.None);
                Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
                break;
            case "cancelled":
                await Harness.Bus.Publish(new CancelRun(runId, Tenant, "no longer needed"));
                Assert.That(await Saga.Exists(runId, m => m.Cancelled), Is.EqualTo(runId));
                break;
            case "escalated, then closed":
                await Escalate(runId);
                await Harness.Bus.Publish(new CloseRun(runId, Tenant, "Done by hand.", "alice"));
                Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
                break;
            case "escalated, then cancelled":
                await Escalate(runId);
                await Harness.Bus.Publish(new CancelRun(runId, Tenant, "not worth it"));
                Assert.That(await Saga.Exists(runId, m => m.Cancelled), Is.EqualTo(runId));
                break;
            case "escalated, resumed, then completed":
                await Escalate(runId);
                await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "Answer 5.", "alice"));
                Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
                Assert.That(await Held(), Is.EqualTo(1), "the resumed run gave its slot back");
                await Harness.Bus.Publish(ProposeAnswer(runId, 2, "5"));
                Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
                await Harness.Bus.Publish(Verdict(runId, 2, Contracts.Verdict.Complete, "5"));
                Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
                break;
        }

        Assert.That(await Held(), Is.Zero);
        Assert.That(Saga.Sagas.Contains(runId)!.HoldsTenantSlot, Is.False);
    }

    [Test]
    public async Task Should_keep_the_slot_of_an_escalated_run_while_it_waits_for_a_person()
    {
        var runId = await Started();
        await Escalate(runId);

        Clock.Advance(TimeSpan.FromHours(1));

        Assert.That(await Held(), Is.EqualTo(1));
        await Started();
        var refused = await StartRun();
        Assert.That(await Saga.Exists(refused, m => m.Failed), Is.EqualTo(refused), "the escalated run's slot was given to another");
    }

    private async Task Complete(Guid runId)
    {
        await Harness.Bus.Publish(ProposeAnswer(runId, 1, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Complete, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
    }

    private async Task Escalate(Guid runId)
    {
        await Harness.Bus.Publish(ProposeAnswer(runId, 1, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Escalate));
        Assert.That(await Saga.Exists(runId, m => m.Escalated), Is.EqualTo(runId));
        Assert.That(await Held(), Is.EqualTo(1), "the escalated run gave its slot back");
    }
}
