using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Planner.Deadlines;
using Agentry.Planner.StateMachines;
using Agentry.Tests.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Planner.Persistence;

public sealed class When_runs_are_kept_in_redis : RedisAgentRunSagaFixture
{
    [Test]
    public async Task Should_take_a_run_from_goal_to_completion_with_every_state_read_back_from_redis()
    {
        var runId = await Start();

        var started = await StoredIn(runId, m => m.LoadingContext);
        Assert.That((started.TenantId, started.Agent, started.Goal, started.Step, started.MaxSteps, started.Version), Is.EqualTo((Tenant, "assistant", "What is 2 + 3?", 1, 3, 1)));
        Assert.That(started.Deadline, Is.EqualTo(Clock.GetUtcNow() + TimeSpan.FromSeconds(30)));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId).Single().Step, Is.EqualTo(1));
        Assert.That(await DeadlineScore(runId), Is.EqualTo(started.Deadline.ToUnixTimeMilliseconds()), "the run's deadline is not kept in Redis");

        await Deliver(ProposeCalls(runId, 1));
        var acting = await StoredIn(runId, m => m.Acting);
        Assert.That((acting.InputTokens, acting.OutputTokens, acting.Version), Is.EqualTo((10, 5, 2)));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId).Single().ToolCalls.Single().Tool, Is.EqualTo("calculator"));

        await Deliver(Results(runId, 1));
        Assert.That((await StoredIn(runId, m => m.Evaluating)).Version, Is.EqualTo(3));

        await Deliver(Verdict(runId, 1, Contracts.Verdict.Complete, "5"));
        var completed = await StoredIn(runId, m => m.Completed);
        Assert.That((completed.LastVerdict, completed.Version), Is.EqualTo(("Complete", 4)));
        var outcome = PublishedMessages<RunCompleted>(m => m.RunId == runId).Single();
        Assert.That((outcome.Answer, outcome.Steps, outcome.Usage.Total), Is.EqualTo(("5", 1, 15)));
        Assert.That(await DeadlineScore(runId), Is.Null, "a finished run's deadline is still waiting to fire");
    }

    [Test]
    public async Task Should_write_nothing_for_a_duplicated_message()
    {
        var runId = await Start();
        var proposal = ProposeCalls(runId, 1);

        await Deliver(proposal);
        await Deliver(proposal);

        var run = await StoredIn(runId, m => m.Acting);
        Assert.That((run.Version, run.InputTokens + run.OutputTokens), Is.EqualTo((2, 15)), "the duplicate wrote the run again");
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId).Select(m => m.ToolCalls.Single().CallId).Distinct(), Is.EqualTo(new[] { "call_1" }));
    }

    [Test]
    public async Task Should_keep_an_active_run_without_expiry()
    {
        var runId = await Start();

        await StoredIn(runId, m => m.LoadingContext);
        Assert.That(await Redis.Database.KeyTimeToLiveAsync(RunKey(runId)), Is.Null);
    }

    [Test]
    public async Task Should_expire_a_finished_run_after_the_default_retention_of_seven_days()
    {
        var runId = await Start();

        await Deliver(new CancelRun(runId, Tenant, "no longer needed"));

        await StoredIn(runId, m => m.Cancelled);
        Assert.That(Defaults.FinishedRunRetention, Is.EqualTo(TimeSpan.FromDays(7)));
        Assert.That(await Redis.Database.KeyTimeToLiveAsync(RunKey(runId)),
            Is.Not.Null.And.InRange(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7)));
    }

    [Test]
    public async Task Should_leave_a_finished_run_unchanged_by_a_late_goal()
    {
        var runId = await Start(agent: "nobody");
        var failed = await StoredIn(runId, m => m.Failed);

        await Deliver(new GoalReceived(runId, Tenant, "nobody", "What is 2 + 3?"));

        Assert.That((await StoredIn(runId, m => m.Failed)).Version, Is.EqualTo(failed.Version));
        Assert.That(Saga.Created.Select(x => x.CorrelationId == runId).Count(), Is.EqualTo(1), "the late goal started the run again");
    }

    [Test]
    public async Task Should_fail_a_run_whose_deadline_in_redis_passed()
    {
        var runId = await Start();
        Clock.Advance(TimeSpan.FromSeconds(31));
        var monitor = new DeadlineMonitor(
            Provider.GetRequiredService<IRunDeadlines>(), Harness.Bus, Clock, Options.Create(new PlannerOptions()), NullLogger<DeadlineMonitor>.Instance);

        await Deliver(() => monitor.PublishDueAsync(CancellationToken.None), messages: 1);

        Assert.That((await StoredIn(runId, m => m.Failed)).LastReason, Does.StartWith("Deadline passed: the run was still Planning at step 1"));
        Assert.That(await DeadlineScore(runId), Is.Null);
    }

    [Test]
    public async Task Should_end_a_run_at_its_deadline_in_redis_within_the_runs_trace()
    {
        using var spans = new RecordedSpans();
        Guid runId;
        ActivityTraceId runTrace;
        using (var root = spans.StartRoot("start the run"))
        {
            runTrace = root.TraceId;
            runId = await Start();
        }

        Assert.That((string?)await Redis.Database.HashGetAsync($"{KeyPrefix}{{deadlines}}:traceparent", runId.ToString("D")),
            Does.StartWith($"00-{runTrace}-"), "the run's trace context is not kept with its deadline");
        Clock.Advance(TimeSpan.FromSeconds(31));
        var monitor = new DeadlineMonitor(
            Provider.GetRequiredService<IRunDeadlines>(), Harness.Bus, Clock, Options.Create(new PlannerOptions()), NullLogger<DeadlineMonitor>.Instance);

        await Deliver(() => monitor.PublishDueAsync(CancellationToken.None), messages: 1);

        Assert.That((await StoredIn(runId, m => m.Failed)).LastReason, Does.StartWith("Deadline passed"));
        var transition = await spans.WaitFor(s => s.DisplayName == "saga DeadlineReached" && RecordedSpans.IsOfRun(s, runId), "for the saga's transition on the deadline");
        Assert.That(transition.TraceId, Is.EqualTo(runTrace), "the deadline's transition is in a trace of its own");
    }

    private Task<double?> DeadlineScore(Guid runId) =>
        Redis.Database.SortedSetScoreAsync($"{KeyPrefix}{{deadlines}}:due", runId.ToString("D"));
}

public sealed class When_the_retention_of_finished_runs_is_configured : RedisAgentRunSagaFixture
{
    protected override (string Key, string Value)[] Settings => [("Planner:Redis:FinishedRunRetention", "01:00:00")];

    [Test]
    public async Task Should_expire_every_kind_of_finished_run_after_that_retention()
    {
        var failed = await Start(agent: "nobody");
        var completed = await Start();
        var escalated = await Start();
        await Deliver(ProposeAnswer(completed, 1, "5"), ProposeAnswer(escalated, 1, "maybe 5"));
        await Deliver(Verdict(completed, 1, Contracts.Verdict.Complete, "5"), Verdict(escalated, 1, Contracts.Verdict.Escalate));

        foreach (var (runId, state) in new (Guid, Func<AgentRunStateMachine, MassTransit.State>)[] { (failed, m => m.Failed), (completed, m => m.Completed), (escalated, m => m.Escalated) })
        {
            var run = await StoredIn(runId, state);
            Assert.That(IsFinished(run), $"{run.CurrentState} is not a finished state");
            Assert.That(await Redis.Database.KeyTimeToLiveAsync(RunKey(runId)),
                Is.Not.Null.And.InRange(TimeSpan.FromMinutes(59), TimeSpan.FromHours(1)), $"the {run.CurrentState} run");
        }
    }
}
