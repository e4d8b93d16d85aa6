using Agentry.Contracts;
using Agentry.Agents;
using MassTransit.Testing;

namespace Agentry.Tests.Planner;

/// The saga with a plan-and-execute agent; the tests play the planning call, the ToolExecutor and
/// the Evaluator. Plan: 1 and 2 independent, 3 after both.
public abstract class PlanAndExecuteSagaFixture : AgentRunSagaFixture
{
    protected virtual int MaxReplans => 2;

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Assistant(maxSteps: 3, maxTokens: 1_000, deadline: "30s"),
        TestAgents.Parse("planner", $"""
            instructions: Plan, then act.
            strategy: plan-and-execute
            tools: [calculator, current_time]
            limits:
              max_steps: 6
              max_tokens: 5000
              max_replans: {MaxReplans}
            """));

    protected static Plan ThreeSteps(int revision = 0) => new(revision,
    [
        new PlanStep(1, "multiply", "calculator", Json("""{"expression":"6 * 7"}"""), []),
        new PlanStep(2, "the time", "current_time", Json("{}"), []),
        new PlanStep(3, "add the results", null, null, [1, 2]),
    ]);

    protected static ToolCall Call(string id, string tool = "calculator") => new(id, tool, Json("{}"));

    protected static StepProposed ProposePlan(Guid runId, int step, Plan plan, params ToolCall[] calls) =>
        new(runId, Tenant, step, "planned", calls, null, new TokenUsage(20, 10), "test-model", Plan: plan);

    protected static StepProposed ProposeWave(Guid runId, int step, params ToolCall[] calls) =>
        new(runId, Tenant, step, "running", calls, null, new TokenUsage(10, 5), "test-model");

    protected static ToolResult Succeeded(Guid runId, int step, params ToolCall[] calls) =>
        new(runId, Tenant, "planner", step, 6, [.. calls.Select(c => new ToolOutcome(c.CallId, c.Tool, c.Arguments, "ok", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(1)))]);

    protected static ToolResult Failed(Guid runId, int step, ToolCall call, string error) =>
        new(runId, Tenant, "planner", step, 6, [new ToolOutcome(call.CallId, call.Tool, call.Arguments, "", ToolErrorKind.Failed, error, TimeSpan.FromMilliseconds(1))]);

    /// Waits for a message to be published, up to the harness's test timeout. Unlike the harness's own
    /// waits, this does not give up once the bus has been idle for its inactivity timeout (300 ms),
    /// which a long test on a loaded machine can reach between two steps.
    protected async Task<T> Published<T>(Func<T, bool> filter)
        where T : class
    {
        var waiter = new PublishWaiter<T>(filter);
        using var connection = Harness.Bus.ConnectPublishObserver(waiter);
        return PublishedMessages(filter).FirstOrDefault() ?? await waiter.Found.Task.WaitAsync(Harness.TestTimeout);
    }

    private sealed class PublishWaiter<T>(Func<T, bool> filter) : MassTransit.IPublishObserver
        where T : class
    {
        public TaskCompletionSource<T> Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task PrePublish<TMessage>(MassTransit.PublishContext<TMessage> context)
            where TMessage : class => Task.CompletedTask;

        public Task PostPublish<TMessage>(MassTransit.PublishContext<TMessage> context)
            where TMessage : class
        {
            if (context.Message is T message && filter(message))
            {
                Found.TrySetResult(message);
            }

            return Task.CompletedTask;
        }

        public Task PublishFault<TMessage>(MassTransit.PublishContext<TMessage> context, Exception exception)
            where TMessage : class => Task.CompletedTask;
    }

    /// Waits for the saga to reach the state (so that a slow machine does not outlast the harness's
    /// inactivity timeout), then returns the one context request of the step.
    protected async Task<ContextRequested> ContextRequestFor(Guid runId, int step, Func<Agentry.Planner.StateMachines.AgentRunStateMachine, MassTransit.State>? state = null)
    {
        Assert.That(await Saga.Exists(runId, state ?? (m => m.LoadingContext)), Is.EqualTo(runId), $"the run did not reach the state expected at step {step}");
        return await Published<ContextRequested>(m => m.RunId == runId && m.Step == step);
    }

    protected async Task<StepPlanned> Accepted(Guid runId, int step, Func<Agentry.Planner.StateMachines.AgentRunStateMachine, MassTransit.State> state)
    {
        Assert.That(await Saga.Exists(runId, state), Is.EqualTo(runId), $"the proposal of step {step} was not accepted");
        return await Published<StepPlanned>(m => m.RunId == runId && m.Step == step);
    }
}

public sealed class When_a_plan_and_execute_run_runs_its_plan : PlanAndExecuteSagaFixture
{
    [Test]
    public async Task Should_ask_for_a_plan_first()
    {
        var runId = await StartRun(agent: "planner");

        var request = await ContextRequestFor(runId, 1);
        Assert.That(request.PlanRequest?.Action, Is.EqualTo(PlanAction.MakePlan));
        Assert.That(Saga.Sagas.Contains(runId)!.MaxReplans, Is.EqualTo(2));
    }

    [Test]
    public async Task Should_run_independent_steps_as_one_wave_then_the_dependent_one_then_ask_for_the_answer()
    {
        var runId = await StartRun(agent: "planner");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        // Step 1: the plan, with its first wave (steps 1 and 2) as two parallel calls.
        var wave1 = new[] { Call("p0s1"), Call("p0s2", "current_time") };
        await Harness.Bus.Publish(ProposePlan(runId, 1, ThreeSteps(), wave1));
        var planned = await Accepted(runId, 1, m => m.Acting);
        Assert.That(planned.Plan, Is.Not.Null, "the plan is on the step that made it");
        Assert.That(planned.ToolCalls.Select(c => c.CallId), Is.EqualTo(new[] { "p0s1", "p0s2" }));
        Assert.That(Saga.Sagas.Contains(runId)!.PlanStepsRunning, Is.EqualTo(new[] { 1, 2 }));

        await Harness.Bus.Publish(Succeeded(runId, 1, wave1));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));
        var second = await ContextRequestFor(runId, 2);
        Assert.That((second.PlanRequest?.Action, second.PlanRequest?.Steps), Is.EqualTo((PlanAction.RunSteps, (IReadOnlyList<int>?)new[] { 3 })));
        Assert.That(second.PlanRequest!.Plan!.Steps, Has.Count.EqualTo(3));

        // Step 2: the sub-goal's call.
        await Harness.Bus.Publish(ProposeWave(runId, 2, Call("p0s3c1")));
        Assert.That((await Accepted(runId, 2, m => m.Acting)).Plan, Is.Null, "only a new plan is carried");
        await Harness.Bus.Publish(Succeeded(runId, 2, Call("p0s3c1")));
        await Harness.Bus.Publish(Verdict(runId, 2, Contracts.Verdict.Continue));
        var third = await ContextRequestFor(runId, 3);
        Assert.That(third.PlanRequest?.Action, Is.EqualTo(PlanAction.Answer));

        // Step 3: the answer.
        await Harness.Bus.Publish(ProposeAnswer(runId, 3, "42 at noon"));
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        await Harness.Bus.Publish(Verdict(runId, 3, Contracts.Verdict.Complete, "42 at noon"));
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        var completed = await Published<RunCompleted>(m => m.RunId == runId);
        Assert.That((completed.Answer, completed.Steps), Is.EqualTo(("42 at noon", 3)));
        Assert.That(Saga.Sagas.Contains(runId)!.PlanStepsDone, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Should_wait_for_the_results_when_the_verdict_comes_first()
    {
        var runId = await StartRun(agent: "planner");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        var wave1 = new[] { Call("p0s1"), Call("p0s2", "current_time") };
        await Harness.Bus.Publish(ProposePlan(runId, 1, ThreeSteps(), wave1));
        Assert.That(await Saga.Exists(runId, m => m.Acting), Is.EqualTo(runId));

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));
        // Not Quiet(): once the harness was idle, its later waits for a message may give up at once.
        Assert.That(await Saga.Consumed.Any<GoalEvaluated>(m => m.Context.Message.RunId == runId), "the verdict was not consumed");
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step == 2), Is.Empty, "advanced without knowing whether a call failed");
        Assert.That(Saga.Sagas.Contains(runId)!.PendingVerdictJson, Is.Not.Null);

        await Harness.Bus.Publish(Failed(runId, 1, wave1[0], "boom"));
        var request = await ContextRequestFor(runId, 2);
        Assert.That(request.PlanRequest?.Action, Is.EqualTo(PlanAction.Replan));
        Assert.That(request.PreviousVerdict?.Verdict, Is.EqualTo(Contracts.Verdict.Continue));
    }

    [Test]
    public async Task Should_fail_when_the_planning_call_returns_no_plan()
    {
        var runId = await StartRun(agent: "planner");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));

        await Harness.Bus.Publish(ProposeCalls(runId, 1));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var failed = await Published<RunFailed>(m => m.RunId == runId);
        Assert.That(failed.Reason, Is.EqualTo("The model could not plan step 1: the planning call returned no plan."));
    }
}

public sealed class When_a_plan_step_fails : PlanAndExecuteSagaFixture
{
    protected override int MaxReplans => 1;

    [Test]
    public async Task Should_replan_showing_the_failure_then_fail_the_run_past_the_bound()
    {
        var runId = await StartRun(agent: "planner");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await Harness.Bus.Publish(ProposePlan(runId, 1, ThreeSteps(), Call("p0s1"), Call("p0s2", "current_time")));
        await Accepted(runId, 1, m => m.Acting);
        await Harness.Bus.Publish(Failed(runId, 1, Call("p0s1"), "Division by zero"));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Continue));

        var replan = await ContextRequestFor(runId, 2);
        Assert.That(replan.PlanRequest?.Action, Is.EqualTo(PlanAction.Replan));
        Assert.That(replan.PlanRequest!.Reason, Is.EqualTo("the call calculator {} failed (Failed: Division by zero)."));
        Assert.That(replan.PlanRequest.Plan!.Revision, Is.Zero, "the model is shown the plan that went wrong");

        // The revised plan fails too: one re-plan was allowed, so the run ends with the reason.
        var revised = new Plan(1, [new PlanStep(1, "retry", "calculator", Json("{}"), [])]);
        await Harness.Bus.Publish(ProposePlan(runId, 2, revised, Call("p1s1")));
        Assert.That((await Accepted(runId, 2, m => m.Acting)).Plan!.Revision, Is.EqualTo(1));
        await Harness.Bus.Publish(Failed(runId, 2, Call("p1s1"), "Division by zero again"));
        await Harness.Bus.Publish(Verdict(runId, 2, Contracts.Verdict.Continue));

        Assert.That(await Saga.Exists(runId, m => m.Failed), Is.EqualTo(runId));
        var failed = await Published<RunFailed>(m => m.RunId == runId);
        Assert.That(failed.Reason, Is.EqualTo("Re-plan limit reached: the plan went wrong at step 2 after 1 re-plan(s), the most allowed (1): the call calculator {} failed (Failed: Division by zero again)."));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step == 3), Is.Empty);
        Assert.That(Saga.Sagas.Contains(runId)!.Replans, Is.EqualTo(1));
    }

    [Test]
    public async Task Should_replan_when_the_evaluator_asks_for_it()
    {
        var runId = await StartRun(agent: "planner");
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await Harness.Bus.Publish(ProposePlan(runId, 1, ThreeSteps(), Call("p0s1"), Call("p0s2", "current_time")));
        await Accepted(runId, 1, m => m.Acting);
        await Harness.Bus.Publish(Succeeded(runId, 1, Call("p0s1"), Call("p0s2", "current_time")));
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Replan));

        var replan = await ContextRequestFor(runId, 2);
        Assert.That(replan.PlanRequest?.Action, Is.EqualTo(PlanAction.Replan));
        Assert.That(replan.PlanRequest!.Reason, Is.EqualTo("The Evaluator asked for a new plan: test verdict Replan"));
    }

    [Test]
    public async Task Should_treat_a_replan_verdict_as_continue_for_a_react_run()
    {
        var runId = await StartRunInState(m => m.Evaluating);

        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Replan));

        var next = await ContextRequestFor(runId, 2);
        Assert.That(next.PlanRequest, Is.Null);
        Assert.That(Saga.Sagas.Contains(runId)!.PlanAndExecute, Is.False);
    }
}
