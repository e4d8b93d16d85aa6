using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

public sealed partial class When_a_store_keeps_memory
{
    [Test]
    public async Task Should_keep_a_forks_lineage_and_list_a_parents_forks_and_replays_of_its_tenant_oldest_first()
    {
        var transcripts = Store.Transcripts;
        var (parent, fork, replay, stranger) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var forked = new RunLineage(parent, LineageKind.Fork, 2, new string('a', 64), "gpt-other", new Guidance("Try the other carrier.", "ada"));
        await transcripts.StartRunAsync(new RunStart(parent, "acme", "assistant", "goal", """{"order":"A-1"}""", At), None);
        await transcripts.StartRunAsync(new RunStart(replay, "acme", "assistant", "goal", null, At.AddMinutes(2)) { Lineage = new RunLineage(parent, LineageKind.Replay, 0) }, None);
        await transcripts.StartRunAsync(new RunStart(fork, "acme", "assistant", "goal", null, At.AddMinutes(1)) { Lineage = forked }, None);
        // The same start again, as the first context request brings it after the goal: the lineage stays one.
        await transcripts.StartRunAsync(new RunStart(fork, "acme", "assistant", "goal", null, At.AddMinutes(3)) { Lineage = forked }, None);
        // Run ids are unique across tenants; a run of another tenant naming this parent is not its child here.
        await transcripts.StartRunAsync(new RunStart(stranger, "globex", "assistant", "goal", null, At) { Lineage = new RunLineage(parent, LineageKind.Fork, 1) }, None);

        var parentView = await transcripts.GetAsync("acme", parent, None);
        var forkView = await transcripts.GetAsync("acme", fork, None);

        Assert.That(parentView.Children, Is.EqualTo(new[] { new RunChild(fork, LineageKind.Fork, 2), new RunChild(replay, LineageKind.Replay, 0) }));
        Assert.That(parentView.Lineage, Is.Null);
        Assert.That(parentView.Input?.GetProperty("order").GetString(), Is.EqualTo("A-1"));
        Assert.That(forkView.Lineage, Is.EqualTo(forked with { Guidance = forkView.Lineage!.Guidance }));
        Assert.That(forkView.Lineage.Guidance, Is.EqualTo(forked.Guidance));
        Assert.That(forkView.Children, Is.Null);
    }
}
