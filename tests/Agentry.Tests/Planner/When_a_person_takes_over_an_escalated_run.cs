using Agentry.Contracts;
using MassTransit;

namespace Agentry.Tests.Planner;

/// Escalated is a waiting state (decision 0021): a person resumes the run with guidance, closes it
/// with a resolution or cancels it; duplicates and stale requests change nothing.
public sealed class When_a_person_takes_over_an_escalated_run : AgentRunSagaFixture
{
    private async Task<Guid> Escalated()
    {
        var runId = await StartRunInState(m => m.Evaluating);
        await Harness.Bus.Publish(Verdict(runId, 1, Contracts.Verdict.Escalate));
        Assert.That(await Saga.Exists(runId, m => m.Escalated), Is.EqualTo(runId));
        return runId;
    }

    [Test]
    public async Task Should_resume_at_the_next_step_with_the_guidance_a_fresh_step_allowance_and_a_new_deadline()
    {
        var runId = await Escalated();
        Clock.Advance(TimeSpan.FromMinutes(10));

        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "Use 2 + 3 = 5 and answer.", "alice", AtStep: 1));

        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        var request = await PublishedOne<ContextRequested>(m => m.RunId == runId && m.Step == 2);
        Assert.That(request.Guidance, Is.EqualTo(new Guidance("Use 2 + 3 = 5 and answer.", "alice")));
        Assert.That((request.PreviousStep?.Step, request.PreviousResult?.Step, request.PreviousVerdict?.Verdict), Is.EqualTo(((int?)1, (int?)1, (Verdict?)Contracts.Verdict.Escalate)),
            "the escalated step travels with the request, so Memory has it before it builds the context");
        var resumed = await PublishedOne<RunResumed>(m => m.RunId == runId);
        Assert.That(resumed.Step, Is.EqualTo(2));
        Assert.That(resumed.MaxSteps, Is.EqualTo(4), "the agent's 3 steps again, counted from the step before the resume");
        Assert.That(resumed.Deadline, Is.EqualTo(Clock.GetUtcNow() + TimeSpan.FromSeconds(30)), "the agent's deadline again, from the resume");
        var deadlines = await Deadlines.TakeDueAsync(DateTimeOffset.MaxValue, 10, CancellationToken.None);
        Assert.That(deadlines.Single(d => d.RunId == runId).Deadline, Is.EqualTo(resumed.Deadline));
    }

    [Test]
    public async Task Should_go_on_to_completion_after_the_resume()
    {
        var runId = await Escalated();
        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "Answer 5.", "alice"));
        Assert.That(await Harness.Published.Any<ContextRequested>(m => m.Context.Message.RunId == runId && m.Context.Message.Step == 2));

        await Harness.Bus.Publish(new ContextLoaded(runId, Tenant, "assistant", 2, []));
        await Harness.Bus.Publish(ProposeAnswer(runId, 2, "5"));
        Assert.That(await Saga.Exists(runId, m => m.Evaluating), Is.EqualTo(runId));
        await Harness.Bus.Publish(Verdict(runId, 2, Contracts.Verdict.Complete, "5"));

        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        var completed = await PublishedOne<RunCompleted>(m => m.RunId == runId);
        Assert.That((completed.Answer, completed.Steps, completed.ClosedBy), Is.EqualTo(("5", 2, (string?)null)));
    }

    [Test]
    public async Task Should_resume_once_when_the_request_is_delivered_twice()
    {
        var runId = await Escalated();
        var resume = new ResumeRun(runId, Tenant, "Answer 5.", "alice", AtStep: 1);

        await Harness.Bus.Publish(resume);
        Assert.That(await Saga.Exists(runId, m => m.LoadingContext), Is.EqualTo(runId));
        await Harness.Bus.Publish(resume);
        await Quiet();

        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.Step, run.MaxSteps), Is.EqualTo((2, 4)), "the duplicate did not advance the run again");
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId).Select(m => m.Step).Distinct(), Is.EqualTo(new[] { 1, 2 }),
            "a redelivered resume only republishes the same request");
    }

    [Test]
    public async Task Should_ignore_a_request_made_for_an_earlier_escalation_or_without_words()
    {
        var runId = await Escalated();

        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "stale", "bob", AtStep: 0));
        await Harness.Bus.Publish(new CloseRun(runId, Tenant, "stale", "bob", AtStep: 0));
        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, " ", "bob"));
        await Harness.Bus.Publish(new CloseRun(runId, Tenant, "", "bob"));
        await Quiet();

        Assert.That(Saga.Sagas.Contains(runId)!.CurrentState, Is.EqualTo(nameof(Machine.Escalated)));
        Assert.That(PublishedMessages<RunCompleted>(m => m.RunId == runId), Is.Empty);
        Assert.That(PublishedMessages<RunResumed>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_close_as_completed_with_the_resolution_and_who_closed_it()
    {
        var runId = await Escalated();

        await Harness.Bus.Publish(new CloseRun(runId, Tenant, " Refunded by hand. ", "alice", AtStep: 1));

        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        var completed = await PublishedOne<RunCompleted>(m => m.RunId == runId);
        Assert.That((completed.Answer, completed.ClosedBy, completed.Steps), Is.EqualTo(("Refunded by hand.", "alice", 1)));
    }

    [Test]
    public async Task Should_neither_resume_nor_close_again_a_closed_run()
    {
        var runId = await Escalated();
        await Harness.Bus.Publish(new CloseRun(runId, Tenant, "Done.", "alice"));
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));

        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "go on", "bob"));
        await Harness.Bus.Publish(new CloseRun(runId, Tenant, "Something else.", "bob"));
        await Quiet();

        Assert.That(Saga.Sagas.Contains(runId)!.CurrentState, Is.EqualTo(nameof(Machine.Completed)));
        Assert.That(PublishedMessages<RunCompleted>(m => m.RunId == runId).Select(m => m.Answer), Is.EqualTo(new[] { "Done." }));
        Assert.That(PublishedMessages<ContextRequested>(m => m.RunId == runId && m.Step > 1), Is.Empty);
    }

    [Test]
    public async Task Should_republish_the_completion_when_the_close_is_redelivered()
    {
        var runId = await Escalated();
        var close = new CloseRun(runId, Tenant, "Done.", "alice");

        await Harness.Bus.Publish(close);
        Assert.That(await Saga.Exists(runId, m => m.Completed), Is.EqualTo(runId));
        await Harness.Bus.Publish(close);
        await Quiet();

        Assert.That(PublishedMessages<RunCompleted>(m => m.RunId == runId).Select(m => (m.Answer, m.ClosedBy)).Distinct(), Is.EqualTo(new[] { ("Done.", (string?)"alice") }));
    }

    [Test]
    public async Task Should_not_resume_a_run_that_is_still_working()
    {
        var runId = await StartRunInState(m => m.Acting);

        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "go on", "bob"));
        await Quiet();

        var run = Saga.Sagas.Contains(runId)!;
        Assert.That((run.CurrentState, run.Step), Is.EqualTo((nameof(Machine.Acting), 1)));
        Assert.That(PublishedMessages<RunResumed>(m => m.RunId == runId), Is.Empty);
    }

    [Test]
    public async Task Should_cancel_an_escalated_run()
    {
        var runId = await Escalated();

        await Harness.Bus.Publish(new CancelRun(runId, Tenant, "Nobody will handle it."));

        Assert.That(await Saga.Exists(runId, m => m.Cancelled), Is.EqualTo(runId));
        Assert.That((await PublishedOne<RunCancelled>(m => m.RunId == runId)).Reason, Is.EqualTo("Nobody will handle it."));
    }

    [Test]
    public async Task Should_ignore_a_resume_for_an_unknown_run()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new ResumeRun(runId, Tenant, "go on", "bob"));
        await Quiet();

        Assert.That(Saga.Sagas.Contains(runId), Is.Null);
    }
}
