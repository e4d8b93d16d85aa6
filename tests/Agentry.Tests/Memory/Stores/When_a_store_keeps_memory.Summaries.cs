using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The contract for transcript summaries, on every backend.
public sealed partial class When_a_store_keeps_memory
{
    private static TranscriptSummary Summary(Guid run, string tenant, int through, string text, string model = "gpt-fake") =>
        new(run, tenant, through, text, model, At.AddMinutes(through));

    [Test]
    public async Task Should_give_back_the_summary_that_covers_the_most_steps_without_going_past_the_one_asked()
    {
        var run = Guid.NewGuid();
        await Store.Summaries.SaveSummaryAsync(Summary(run, "acme", 6, "steps 1 to 6"), None);
        await Store.Summaries.SaveSummaryAsync(Summary(run, "acme", 3, "steps 1 to 3", TranscriptSummarizer.ExtractiveWriter), None);

        Assert.That(await Store.Summaries.GetSummaryAsync("acme", run, 2, None), Is.Null);
        Assert.That((await Store.Summaries.GetSummaryAsync("acme", run, 5, None))?.Text, Is.EqualTo("steps 1 to 3"));
        Assert.That(await Store.Summaries.GetSummaryAsync("acme", run, 6, None), Is.EqualTo(Summary(run, "acme", 6, "steps 1 to 6")));
        Assert.That((await Store.Summaries.GetSummaryAsync("acme", run, 40, None))?.ThroughStep, Is.EqualTo(6));
        Assert.That((await Store.Summaries.GetSummaryAsync("acme", run, 3, None))?.Model, Is.EqualTo(TranscriptSummarizer.ExtractiveWriter));
        Assert.That(await Store.Summaries.GetSummaryAsync("acme", Guid.NewGuid(), 6, None), Is.Null);
    }

    [Test]
    public async Task Should_keep_the_first_summary_saved_for_the_same_steps()
    {
        var run = Guid.NewGuid();
        await Store.Summaries.SaveSummaryAsync(Summary(run, "acme", 4, "the first"), None);
        await Store.Summaries.SaveSummaryAsync(Summary(run, "acme", 4, "a second, from a redelivered request"), None);

        Assert.That((await Store.Summaries.GetSummaryAsync("acme", run, 4, None))?.Text, Is.EqualTo("the first"));
    }

    [Test]
    public async Task Should_not_show_a_summary_to_another_tenant()
    {
        var run = Guid.NewGuid();
        await Store.Summaries.SaveSummaryAsync(Summary(run, "acme", 2, "acme's"), None);

        Assert.That(await Store.Summaries.GetSummaryAsync("globex", run, 2, None), Is.Null);
        Assert.That((await Store.Summaries.GetSummaryAsync("acme", run, 2, None))?.Text, Is.EqualTo("acme's"));
    }
}
