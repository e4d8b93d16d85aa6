using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The contract for a run's online grades (RunGraded), on every backend.
public sealed partial class When_a_store_keeps_memory
{
    private static RunGraded Graded(Guid run, string tenant, double? score, DateTimeOffset at, params OnlineGrade[] grades) =>
        new(run, tenant, "clerk", at, score, grades, score is null ? 0 : 7);

    [Test]
    public async Task Should_keep_a_runs_online_grades_once_and_show_them_with_the_run()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);
        await transcripts.EndRunAsync(new RunEnd(run, tenant, "clerk", RunStatus.Completed, "Refunded.", null, 2, new TokenUsage(5, 5), At.AddMinutes(1)), None);
        Assert.That((await transcripts.GetAsync(tenant, run, None)).OnlineEvaluation, Is.Null, "not graded yet");

        var first = Graded(run, tenant, 0.5, At.AddMinutes(2),
            new OnlineGrade("answer", 1, true, "The answer matches 'Refund'."),
            new OnlineGrade("rubric", 0, false, "The rubric judge could not be asked: timeout.", NotGraded: true),
            new OnlineGrade("budget", 0, false, "3 steps; at most 2."));
        await transcripts.RecordOnlineEvaluationAsync(first, None);
        // A redelivery, or a copy graded again by mistake: the first stays.
        await transcripts.RecordOnlineEvaluationAsync(Graded(run, tenant, 1, At.AddMinutes(3), new OnlineGrade("answer", 1, true, "again")), None);

        var view = await transcripts.GetAsync(tenant, run, None);
        var withoutTenant = await transcripts.GetAsync(run, None);
        var ofAnother = await transcripts.GetAsync($"other-{tenant}", run, None);
        Assert.Multiple(() =>
        {
            Assert.That((view.Status, view.Answer), Is.EqualTo(((RunStatus?)RunStatus.Completed, "Refunded.")), "the grades change nothing else");
            Assert.That((view.OnlineEvaluation!.Score, view.OnlineEvaluation.Sequence, view.OnlineEvaluation.GradedAt), Is.EqualTo(((double?)0.5, 7L, At.AddMinutes(2))));
            Assert.That(view.OnlineEvaluation.Grades, Is.EqualTo(first.Grades), "every grade, in order, with its not-graded mark");
            Assert.That(withoutTenant.OnlineEvaluation?.Score, Is.EqualTo(0.5), "read without the tenant too");
            Assert.That((ofAnother.Found, ofAnother.OnlineEvaluation), Is.EqualTo((false, (OnlineEvaluationView?)null)), "another tenant's run is not found");
        });
    }

    [Test]
    public async Task Should_keep_grades_that_arrive_before_the_run_is_known()
    {
        var tenant = $"acme-{Guid.NewGuid():N}";
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;

        await transcripts.RecordOnlineEvaluationAsync(Graded(run, tenant, null, At.AddMinutes(2), new OnlineGrade("rubric", 0, false, "The judge could not be asked.", NotGraded: true)), None);
        var early = await transcripts.GetAsync(tenant, run, None);
        await transcripts.StartRunAsync(new RunStart(run, tenant, "clerk", "Refund order 42", null, At), None);
        await transcripts.EndRunAsync(new RunEnd(run, tenant, "clerk", RunStatus.Completed, "Refunded.", null, 1, new TokenUsage(5, 5), At.AddMinutes(1)), None);

        var view = await transcripts.GetAsync(tenant, run, None);
        Assert.Multiple(() =>
        {
            Assert.That((early.Found, early.Status, early.Agent), Is.EqualTo((true, (RunStatus?)RunStatus.Completed, "clerk")), "only completed runs are graded");
            Assert.That((view.Goal, view.Answer, view.Status), Is.EqualTo(("Refund order 42", "Refunded.", (RunStatus?)RunStatus.Completed)));
            Assert.That(view.OnlineEvaluation!.Score, Is.Null, "no grader could grade");
            Assert.That(view.OnlineEvaluation.Sequence, Is.Zero);
            Assert.That(view.OnlineEvaluation.Grades.Single().NotGraded, Is.True);
        });
    }
}
