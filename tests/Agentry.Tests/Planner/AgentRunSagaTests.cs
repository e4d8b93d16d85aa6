using System.Diagnostics;
using Agentry.Contracts;
using Agentry.Tests.Telemetry;
using MassTransit;
using MassTransit.Testing;

namespace Agentry.Tests.Planner;

public sealed class When_a_goal_is_received : AgentRunSagaFixture
{
    [Test]
    public async Task Should_start_a_run_and_ask_memory_for_context()
    {
        var runId = await StartRun();

        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        Assert.That(await Harness.Published.Any<ContextRequested>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 1 && m.Context.Message.Goal == "What is 2 + 3?"));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That(run.TenantId, Is.EqualTo(Tenant));
        Assert.That(run.MaxSteps, Is.EqualTo(3));
        Assert.That(run.Deadline, Is.EqualTo(Clock.GetUtcNow() + TimeSpan.FromSeconds(30)));
    }

    [Test]
    public async Task Should_take_the_proposed_step_without_receiving_the_context_itself()
    {
        var runId = await StartRun();
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        // Memory's answer goes to the planning consumer only: the saga's queue is not bound to it
        // (docs/decisions/0030), which saves a delivery and a saga write every step.
        await Harness.Bus.Publish(new ContextLoaded(runId, Tenant, "assistant", 1, [new ContextMessage(ContextRole.User, "What is 2 + 3?")]));
        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId));
        await Harness.Bus.Publish(ProposeCalls(runId, 1));

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        Assert.That(await Saga.Consumed.Any<ContextLoaded>(m => m.Context.Message.RunId == runId), Is.False, "the saga received ContextLoaded");
    }

    [Test]
    public async Task Should_start_only_once_and_ask_again_for_context_when_the_goal_is_delivered_twice()
    {
        var runId = NewId.NextGuid();
        var goal = new GoalReceived(runId, Tenant, "assistant", "What is 2 + 3?");

        await Harness.Bus.Publish(goal);
        await Harness.Bus.Publish(goal);
        await Quiet();

        Assert.That(Saga.Consumed.Select<GoalReceived>(m => m.Context.Message.RunId == runId).Count(), Is.EqualTo(2));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.Step, run.CurrentState), Is.EqualTo((1, "LoadingContext")));
        // The second delivery may be the redelivery after a crash that lost the first request: it is repeated.
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId).Select(m => m.Step), Is.EqualTo(new[] { 1, 1 }));
    }

    [Test]
    public async Task Should_fail_a_run_for_an_unknown_agent_with_the_known_agents_named()
    {
        var runId = await StartRun(agent: "nobody");

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var failed = await PublishedOne<RunFailed>(m => m.RunId == runId);
        Assert.That(failed.Reason, Is.EqualTo("Unknown agent 'nobody'. Known agents: assistant."));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_refuse_a_goal_over_its_length_at_once_naming_the_field_and_the_limit()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", new string('x', 2_000_004)));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("goal is 2,000,004 characters; the limit is 32,768 (Goals:MaxGoalCharacters)."));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId), Is.Empty, "no other stage works on it");
        Assert.That(Saga.Sagas.Contains(runId)!.Goal, Is.Empty, "the run state does not keep it");
    }

    [Test]
    public async Task Should_refuse_an_input_nested_deeper_than_its_limit()
    {
        var runId = NewId.NextGuid();
        var deep = System.Text.Json.JsonDocument.Parse(string.Concat(Enumerable.Repeat("[", 40)) + string.Concat(Enumerable.Repeat("]", 40))).RootElement.Clone();

        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "Sum it", deep));

        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("input nests 40 levels deep; the limit is 32 (Goals:MaxInputDepth)."));
    }

    [Test]
    public async Task Should_give_a_goal_without_a_tenant_the_default_tenant()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new GoalReceived(runId, null!, "assistant", "What is 2 + 3?"));

        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        Assert.That((await PublishedOne<ContextRequested>(m => m.RunId == runId)).TenantId, Is.EqualTo("default"));
    }

    [Test]
    public async Task Should_fail_a_run_with_an_empty_goal()
    {
        var runId = await StartRun(goal: "   ");

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Does.Contain("The goal is empty"));
    }

    [Test]
    public async Task Should_apply_the_limits_the_goal_overrides()
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new GoalReceived(runId, Tenant, "assistant", "2 + 3", Limits: new RunLimits(MaxSteps: 1, MaxTokens: 50, Deadline: TimeSpan.FromSeconds(5))));

        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.MaxSteps, run.MaxTokens, run.Deadline - run.StartedAt), Is.EqualTo((1, 50, TimeSpan.FromSeconds(5))));
    }
}

public sealed class When_a_step_is_planned : AgentRunSagaFixture
{
    [Test]
    public async Task Should_publish_the_step_and_wait_for_tool_results()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeCalls(runId, 1));

        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        var step = await PublishedOne<StepPlanned>(m => m.RunId == runId);
        Assert.That((step.Step, step.MaxSteps, step.Agent, step.ToolCalls.Single().Tool, step.FinalAnswer), Is.EqualTo((1, 3, "assistant", "calculator", (string?)null)));
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.InputTokens, run.OutputTokens), Is.EqualTo((10, 5)));
    }

    [Test]
    public async Task Should_accept_a_proposal_once_and_republish_the_accepted_step_when_it_is_delivered_again()
    {
        var runId = await StartRunInState(m => m.LoadingContext);
        var proposal = ProposeCalls(runId, 1);
        var different = proposal with { ToolCalls = [new ToolCall("call_other", "current_time", Json("{}"))] };

        await Harness.Bus.Publish(proposal);
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));
        await Harness.Bus.Publish(different);
        await Quiet();

        var published = PublishedMessages<StepPlanned>(m => m.RunId == runId).ToList();
        Assert.That(published, Has.Count.EqualTo(2));
        Assert.That(published.Select(p => p.ToolCalls.Single().CallId), Is.EqualTo(new[] { "call_1", "call_1" }), "a second proposal replaced the accepted one");
        var run = Saga.Sagas.Contains(runId)!;
        Assert.That(run.InputTokens + run.OutputTokens, Is.EqualTo(15), "tokens were counted twice");
        Assert.That(run.CurrentState, Is.EqualTo("Acting"));
    }

    [Test]
    public async Task Should_ignore_a_proposal_for_another_step()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeCalls(runId, 2));
        await Quiet();

        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty);
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
    }

    [Test]
    public async Task Should_fail_the_run_when_the_model_could_not_plan()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(new StepProposed(runId, Tenant, 1, null, [], null, TokenUsage.None, "test-model", "HTTP 401 Unauthorized"));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("The model could not plan step 1: HTTP 401 Unauthorized"));
    }

    [Test]
    public async Task Should_fail_the_run_when_the_token_limit_is_passed_without_running_the_step()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeCalls(runId, 1, inputTokens: 900, outputTokens: 200));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason,
            Is.EqualTo("Token limit reached: the run used 1100 tokens by step 1, over its limit of 1000."));
        Assert.That(PublishedMessages<StepPlanned>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_go_straight_to_evaluation_for_a_final_answer()
    {
        var runId = await StartRunInState(m => m.LoadingContext);

        await Harness.Bus.Publish(ProposeAnswer(runId, 1, "5"));

        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        Assert.That((await PublishedOne<StepPlanned>(m => m.RunId == runId)).FinalAnswer, Is.EqualTo("5"));
    }
}

public sealed class When_a_step_is_evaluated : AgentRunSagaFixture
{
    [Test]
    public async Task Should_plan_the_next_step_on_continue()
    {
        var runId = await StartRunInState(m => m.Evaluating);

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));

        Assert.That(await Harness.Published.Any<ContextRequested>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        Assert.That(Saga.Sagas.Contains(runId)!.Step, Is.EqualTo(2));
    }

    [Test]
    public async Task Should_accept_a_verdict_that_overtakes_the_tool_results()
    {
        var runId = await StartRunInState(m => m.Acting);

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));

        Assert.That(await Harness.Published.Any<ContextRequested>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));
        await Harness.Bus.Publish(Results(runId, 1));
        await Quiet();
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId), "the late ToolResult moved the run");
    }

    [Test]
    public async Task Should_advance_once_when_the_verdict_is_delivered_twice()
    {
        var runId = await StartRunInState(m => m.Evaluating);
        var verdict = Verdict(runId, 1, Contracts.Verdict.Continue);

        await Harness.Bus.Publish(verdict);
        await Harness.Bus.Publish(verdict);
        await Quiet();

        Assert.That(Saga.Sagas.Contains(runId)!.Step, Is.EqualTo(2));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step == 3), Is.Empty);
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step == 2).Count(), Is.EqualTo(2), "the redelivered verdict asks again for the same step");
    }

    [Test]
    public async Task Should_republish_the_end_under_the_same_message_id_when_the_final_verdict_is_delivered_again()
    {
        // The harness keeps one record per message id, so every publication is counted by an observer.
        var ends = new PublishedEnds();
        using var observing = Harness.Bus.ConnectPublishObserver(ends);
        var runId = await StartRunInState(m => m.Evaluating);
        var verdict = Verdict(runId, 1, Contracts.Verdict.Complete, "5");

        await Harness.Bus.Publish(verdict);
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        await Harness.Bus.Publish(verdict);
        await Quiet();

        var published = ends.Of(runId);
        Assert.That(published.Select(e => e.End.Answer), Is.EqualTo(new[] { "5", "5" }), "the end is published again");
        Assert.That(published.Select(e => e.MessageId).Distinct().Single(), Is.EqualTo(Agentry.Planner.StateMachines.RunEndMessageIds.Of(runId, nameof(RunCompleted), 1)),
            "both publications carry one message id, by which consumers recognise the repeat");
        Assert.That(Agentry.Planner.StateMachines.RunEndMessageIds.Of(runId, nameof(RunCompleted), 2), Is.Not.EqualTo(published[0].MessageId), "an end at another step is another end");
    }

    private sealed class PublishedEnds : IPublishObserver
    {
        private readonly List<(RunCompleted End, Guid? MessageId)> _ends = [];

        public List<(RunCompleted End, Guid? MessageId)> Of(Guid runId)
        {
            lock (_ends)
            {
                return [.. _ends.Where(e => e.End.RunId == runId)];
            }
        }

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class
        {
            if (context.Message is RunCompleted end)
            {
                lock (_ends)
                {
                    _ends.Add((end, context.MessageId));
                }
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }

    [Test]
    public async Task Should_ignore_a_late_verdict_for_an_earlier_step()
    {
        var runId = await StartRunInState(m => m.Evaluating);
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));
        Assert.That(await Harness.Published.Any<ContextRequested>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Complete, "stale"));
        await Quiet();

        Assert.That(PublishedMessages<RunCompleted>(m => m.RunId == runId), Is.Empty);
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
    }

    [Test]
    public async Task Should_complete_with_the_answer_and_the_run_totals()
    {
        var runId = await StartRunInState(m => m.LoadingContext);
        await Harness.Bus.Publish(ProposeAnswer(runId, 1, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        Clock.Advance(TimeSpan.FromSeconds(2));

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Complete, "5"));

        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        var completed = await PublishedOne<RunCompleted>(m => m.RunId == runId);
        Assert.That((completed.Answer, completed.Steps, completed.Usage, completed.Duration), Is.EqualTo(("5", 1, new TokenUsage(10, 5), TimeSpan.FromSeconds(2))));
        var due = await Deadlines.TakeDueAsync(DateTimeOffset.MaxValue, 10, CancellationToken.None);
        Assert.That(due.Where(d => d.RunId == runId), Is.Empty, "the finished run's deadline was left behind");
    }

    [Test]
    public async Task Should_escalate_with_a_summary_for_a_person()
    {
        var runId = await StartRunInState(m => m.Evaluating);

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Escalate));

        Assert.That(await Saga.Exists(runId, m => m.Escalated), Is.EqualTo(runId));
        var escalated = await PublishedOne<RunEscalated>(m => m.RunId == runId);
        Assert.That(escalated.Reason, Is.EqualTo("test verdict Escalate"));
        Assert.That(escalated.Summary, Does.Contain("Goal: What is 2 + 3?").And.Contain("Why it stopped: test verdict Escalate"));
    }

    [Test]
    public async Task Should_fail_with_the_evaluators_reason()
    {
        var runId = await StartRunInState(m => m.Evaluating);

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Fail));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("test verdict Fail"));
    }
}

public sealed class When_a_run_reaches_a_limit : AgentRunSagaFixture
{
    [Test]
    public async Task Should_fail_at_the_step_limit_instead_of_planning_again()
    {
        var runId = await StartRunInState(m => m.LoadingContext);
        for (var step = 1; step <= 3; step++)
        {
            await Harness.Bus.Publish(ProposeCalls(runId, step));
            Assert.That(await Harness.Published.Any<StepPlanned>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == step));
            await Harness.Bus.Publish(Verdict(runId, step, Contracts.Verdict.Continue));
        }

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Is.EqualTo("Step limit reached: 3 steps taken without a final answer."));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step == 4), Is.Empty);
    }

    [Test]
    public async Task Should_fail_when_the_deadline_passes_while_a_tool_runs()
    {
        var runId = await StartRunInState(m => m.Acting);
        var monitor = DeadlineMonitor();

        Clock.Advance(TimeSpan.FromSeconds(29));
        await monitor.PublishDueAsync(CancellationToken.None);
        await Quiet();
        Assert.That(PublishedMessages<RunFailed>(m => m.RunId == runId), Is.Empty, "failed before the deadline");

        Clock.Advance(TimeSpan.FromSeconds(2));
        await monitor.PublishDueAsync(CancellationToken.None);

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason,
            Does.StartWith("Deadline passed: the run was still Acting at step 1").And.EndWith("30s after it started."));
    }

    [Test]
    public async Task Should_end_a_run_at_its_deadline_within_the_runs_trace()
    {
        using var spans = new RecordedSpans();
        Guid runId;
        ActivityTraceId runTrace;
        using (var root = spans.StartRoot("start the run"))
        {
            runTrace = root.TraceId;
            runId = await StartRunInState(m => m.Acting);
        }

        // The poller runs outside any trace, as its background loop does.
        Assert.That(Activity.Current, Is.Null);
        Clock.Advance(TimeSpan.FromSeconds(31));
        await DeadlineMonitor().PublishDueAsync(CancellationToken.None);

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var transition = await spans.WaitFor(s => s.DisplayName == "saga DeadlineReached" && RecordedSpans.IsOfRun(s, runId), "for the saga's transition on the deadline");
        Assert.That(transition.TraceId, Is.EqualTo(runTrace), "the deadline's transition is in a trace of its own");
        var poller = await spans.WaitFor(s => s.DisplayName == "deadline reached" && RecordedSpans.IsOfRun(s, runId), "for the poller's publish");
        Assert.That(poller.TraceId, Is.EqualTo(runTrace));
    }

    [Test]
    public async Task Should_ignore_a_deadline_that_arrives_after_the_run_ended()
    {
        var runId = await StartRunInState(m => m.Evaluating);
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Complete, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));

        await Harness.Bus.Publish(new RunDeadlineReached(runId, Tenant, Clock.GetUtcNow()));
        await Quiet();

        Assert.That(PublishedMessages<RunFailed>(m => m.RunId == runId), Is.Empty);
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
    }

    [Test]
    public async Task Should_cancel_on_request()
    {
        var runId = await StartRunInState(m => m.Acting);

        await Harness.Bus.Publish(new CancelRun(runId, Tenant, "user pressed stop"));

        Assert.That(await Saga.Exists(runId, m => m.Cancelled), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunCancelled>(m => m.RunId == runId)).Reason, Is.EqualTo("user pressed stop"));
    }
}

public sealed class When_a_message_of_a_run_is_poison : AgentRunSagaFixture
{
    [Test]
    public async Task Should_fail_the_run_with_the_reason()
    {
        var runId = await StartRunInState(m => m.Acting);

        await Harness.Bus.Publish(new RunFaulted(runId, Tenant, "A StepPlanned of this run could not be processed by 'execute-step' and was moved to 'execute-step_error': boom"));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunFailed>(m => m.RunId == runId)).Reason, Does.EndWith("moved to 'execute-step_error': boom"));
    }

    [Test]
    public async Task Should_record_a_run_whose_goal_could_not_be_read_as_failed()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunFaulted(runId, Tenant, "A GoalReceived of this run could not be read."));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var failed = await PublishedOne<RunFailed>(m => m.RunId == runId);
        Assert.That((failed.TenantId, failed.Reason), Is.EqualTo((Tenant, "A GoalReceived of this run could not be read.")));
    }

    [Test]
    public async Task Should_leave_a_finished_run_as_it_was()
    {
        var runId = await StartRunInState(m => m.Evaluating);
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Complete, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));

        await Harness.Bus.Publish(new RunFaulted(runId, Tenant, "the webhook failed"));
        await Quiet();

        Assert.That(PublishedMessages<RunFailed>(m => m.RunId == runId), Is.Empty);
    }
}
