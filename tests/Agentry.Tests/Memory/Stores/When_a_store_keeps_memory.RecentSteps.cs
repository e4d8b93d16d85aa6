using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The bounded read a context makes once older steps are summarized, on every backend.
public sealed partial class When_a_store_keeps_memory
{
    [Test]
    public async Task Should_give_back_only_the_steps_after_the_one_asked_with_their_outcomes()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        for (var step = 1; step <= 6; step++)
        {
            await transcripts.RecordStepAsync(Step(run, "acme", step, $"thought {step}"), None);
            await transcripts.RecordToolResultAsync(Result(run, "acme", step, $"out {step}a", $"out {step}b"), None);
            await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", step, Verdict.Continue, $"verdict {step}", 1), None);
        }

        var recent = await transcripts.GetRecentAsync(run, 4, None);

        Assert.That((recent.Found, recent.TenantId, recent.Goal, recent.Status), Is.EqualTo((true, "acme", "goal", RunStatus.Running)));
        Assert.That(recent.Steps.Select(s => s.Step), Is.EqualTo(new[] { 5, 6 }));
        Assert.That(recent.Steps.Select(s => (s.Thought, s.VerdictReason)), Is.EqualTo(new[] { ("thought 5", "verdict 5"), ("thought 6", "verdict 6") }));
        Assert.That(recent.Steps.SelectMany(s => s.Outcomes).Select(o => o.Output), Is.EqualTo(new[] { "out 5a", "out 5b", "out 6a", "out 6b" }));
        Assert.That((await transcripts.GetRecentAsync(run, 0, None)).Steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }), "after step 0: the whole run");
        Assert.That((await transcripts.GetRecentAsync(run, 6, None)).Steps, Is.Empty);
        Assert.That((await transcripts.GetRecentAsync(Guid.NewGuid(), 0, None)).Found, Is.False);
    }
}
