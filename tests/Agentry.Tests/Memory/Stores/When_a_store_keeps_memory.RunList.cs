using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

public sealed partial class When_a_store_keeps_memory
{
    [Test]
    public async Task Should_list_a_tenants_runs_newest_first_by_each_filter()
    {
        // A tenant of this test's own: the store is shared by the fixture's tests.
        var tenant = $"list-{Guid.NewGuid():N}";
        var transcripts = Store.Transcripts;
        var (scheduled, answered, running, earlyEnd) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await transcripts.StartRunAsync(new RunStart(scheduled, tenant, "reporter", "daily report", null, At) { Trigger = TriggerKind.Schedule }, None);
        await transcripts.EndRunAsync(new RunEnd(scheduled, tenant, "reporter", RunStatus.Failed, null, "no data", 1, new TokenUsage(5, 1), At.AddMinutes(1), 0.5m), None);
        await transcripts.StartRunAsync(new RunStart(answered, tenant, "assistant", "6 * 7?", null, At.AddHours(1)) { Trigger = TriggerKind.Api }, None);
        await transcripts.EndRunAsync(new RunEnd(answered, tenant, "assistant", RunStatus.Completed, "42", null, 2, new TokenUsage(30, 3), At.AddHours(1).AddMinutes(1), 0.25m), None);
        await transcripts.StartRunAsync(new RunStart(running, tenant, "assistant", "still going", null, At.AddHours(2)) { Trigger = TriggerKind.Api }, None);
        // Known only from its end so far: its start has not arrived.
        await transcripts.EndRunAsync(new RunEnd(earlyEnd, tenant, "assistant", RunStatus.Cancelled, null, "stopped", 0, TokenUsage.None, At.AddHours(3)), None);
        await transcripts.StartRunAsync(new RunStart(Guid.NewGuid(), "another-" + tenant, "assistant", "not yours", null, At.AddHours(4)), None);

        Task<IReadOnlyList<RunSummary>> List(string? agent = null, RunStatus? status = null, TriggerKind? trigger = null, DateTimeOffset? since = null, int limit = 50) =>
            transcripts.ListAsync(new ListRuns(tenant, agent, status, trigger, since, limit), None);

        var all = await List();
        Assert.That(all.Select(r => r.RunId), Is.EqualTo(new[] { running, answered, scheduled, earlyEnd }));
        var done = all[1];
        Assert.That((done.Agent, done.Goal, done.Status, done.Trigger, done.StartedAt, done.EndedAt, done.Steps, done.Usage, done.TotalCost),
            Is.EqualTo(("assistant", "6 * 7?", RunStatus.Completed, (TriggerKind?)TriggerKind.Api, (DateTimeOffset?)At.AddHours(1), (DateTimeOffset?)At.AddHours(1).AddMinutes(1), (int?)2, (TokenUsage?)new TokenUsage(30, 3), (decimal?)0.25m)));
        Assert.That((all[0].Status, all[0].EndedAt, all[0].Usage, all[0].TotalCost), Is.EqualTo((RunStatus.Running, (DateTimeOffset?)null, (TokenUsage?)null, (decimal?)null)));
        Assert.That((all[3].StartedAt, all[3].Status), Is.EqualTo(((DateTimeOffset?)null, RunStatus.Cancelled)));

        Assert.That((await List(agent: "assistant")).Select(r => r.RunId), Is.EqualTo(new[] { running, answered, earlyEnd }));
        Assert.That((await List(status: RunStatus.Failed)).Select(r => r.RunId), Is.EqualTo(new[] { scheduled }));
        Assert.That((await List(trigger: TriggerKind.Api)).Select(r => r.RunId), Is.EqualTo(new[] { running, answered }));
        Assert.That((await List(since: At.AddMinutes(30))).Select(r => r.RunId), Is.EqualTo(new[] { running, answered }));
        Assert.That((await List(agent: "assistant", status: RunStatus.Completed, trigger: TriggerKind.Api, since: At)).Select(r => r.RunId), Is.EqualTo(new[] { answered }));
        Assert.That((await List(limit: 2)).Select(r => r.RunId), Is.EqualTo(new[] { running, answered }));
        Assert.That(await List(agent: "nobody"), Is.Empty);
    }
}
