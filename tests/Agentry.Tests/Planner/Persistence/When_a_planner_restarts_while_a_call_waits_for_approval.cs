using System.Text.Json;
using Agentry.Contracts;
using Agentry.Planner;
using Agentry.Planner.Deadlines;
using Agentry.Planner.StateMachines;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Planner.Persistence;

/// A pending approval lives in Redis (the saga and its approval deadline): a Planner started after
/// the one that asked for approval carries the run on, on a decision or on the timeout.
public sealed class When_a_planner_restarts_while_a_call_waits_for_approval : RedisFixture
{
    private const string Tenant = "tenant-a";
    private static readonly ToolCall Refund = new("call_refund", "refund_order", JsonDocument.Parse("""{"order_id":"1042"}""").RootElement.Clone());

    private IConfiguration _configuration = null!;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [SetUp]
    public void UseNewKeys() => _configuration = TestRedis.Configuration(Redis.NewKeyPrefix(), []);

    private Task<PlannerProcess> Planner() =>
        PlannerProcess.StartAsync(
            _configuration,
            _clock,
            TestAgents.Catalog(TestAgents.Parse("clerk", """
                instructions: Help the customer.
                tools:
                  - name: refund_order
                    needs_approval: true
                approval:
                  timeout: 10m
                  on_timeout: deny
                limits:
                  deadline: 1h
                """)),
            services => services.AddPlanner(_configuration),
            bus => bus.AddPlannerConsumers(_configuration));

    private async Task<Guid> WaitingRun()
    {
        await using var first = await Planner();
        var runId = NewId.NextGuid();
        await first.Deliver(new GoalReceived(runId, Tenant, "clerk", "Refund order 1042"));
        await first.Deliver(new StepProposed(runId, Tenant, 1, null, [Refund], null, new TokenUsage(10, 5), "test-model"));
        Assert.That(first.Published<ApprovalRequested>().Single().Calls.Single().CallId, Is.EqualTo("call_refund"));
        return runId;
    }

    private static async Task<AgentRunState?> Load(PlannerProcess planner, Guid runId) =>
        await planner.Services.GetRequiredService<ILoadSagaRepository<AgentRunState>>().Load(runId);

    [Test]
    public async Task Should_run_the_approved_call_from_the_next_planner()
    {
        var runId = await WaitingRun();

        await using var second = await Planner();
        Assert.That((await Load(second, runId))!.CurrentState, Is.EqualTo("AwaitingApproval"));
        await second.Deliver(new ApprovalDecided(runId, Tenant, 1, "call_refund", true, "alice"));

        Assert.That((await Load(second, runId))!.CurrentState, Is.EqualTo("Acting"));
        var step = second.Published<StepPlanned>().Single();
        Assert.That((step.ToolCalls.Single().CallId, step.DecidedOutcomes), Is.EqualTo(("call_refund", (IReadOnlyList<ToolOutcome>?)null)));
    }

    [Test]
    public async Task Should_time_the_approval_out_from_the_next_planner()
    {
        var runId = await WaitingRun();

        await using var second = await Planner();
        _clock.Advance(TimeSpan.FromMinutes(10));
        var monitor = new DeadlineMonitor(second.Services.GetRequiredService<IRunDeadlines>(), second.Harness.Bus, _clock, Options.Create(new PlannerOptions()), NullLogger<DeadlineMonitor>.Instance);
        await monitor.PublishDueAsync(CancellationToken.None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!second.Published<StepPlanned>().Any())
        {
            await Task.Delay(20, timeout.Token);
        }

        var denied = second.Published<StepPlanned>().Single().DecidedOutcomes!.Single();
        Assert.That((denied.CallId, denied.ErrorKind), Is.EqualTo(("call_refund", ToolErrorKind.PermissionDenied)));
    }
}
