using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;

namespace Agentry.Tests.Memory.Stores;

/// The store contract: every backend (SQLite always, MongoDB where one is reachable) keeps
/// transcripts, approvals, summaries, memory items, knowledge chunks and the audit trail the same way, per tenant.
[TestFixtureSource(typeof(StoreBackend), nameof(StoreBackend.All))]
public sealed partial class When_a_store_keeps_memory(StoreBackend backend)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset At = new(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);
    private StoreUnderTest? _opened;
    private string? _notRun;

    // Every test reaches the store through here, so a backend that cannot run here makes each test
    // skipped with the reason (Ignore: the test summary counts it as skipped; Inconclusive it omits), never a pass.
    private StoreUnderTest Store => _opened ?? throw new IgnoreException(_notRun ?? "the store was not opened");

    [OneTimeSetUp]
    public async Task Open()
    {
        var (store, notRun) = await backend.OpenAsync();
        (_opened, _notRun) = (store, notRun);
    }

    [OneTimeTearDown]
    public async Task Close()
    {
        if (_opened is not null)
        {
            await _opened.DisposeAsync();
        }
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static StepPlanned Step(Guid run, string tenant, int step, string thought, decimal cost = 0.001m) =>
        new(run, tenant, "assistant", step, 8, thought, [new ToolCall($"c{step}", "calculator", Json("""{"expression":"6 * 7"}"""))], null, new TokenUsage(10 * step, step), "m", Cost: cost);

    private static ToolResult Result(Guid run, string tenant, int step, params string[] outputs) =>
        new(run, tenant, "assistant", step, 8, outputs.Select((output, i) => new ToolOutcome($"c{step}-{i}", "calculator", Json("{}"), output, ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5))).ToList());

    [Test]
    public async Task Should_give_back_a_run_with_its_steps_and_outcomes_in_order()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "$compute 6 * 7", """{"x":1}""", At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 2, "second", 0.0000123456789m), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a", "b", "c"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Continue, "not yet", 0.5), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Completed, "42", null, 2, new TokenUsage(30, 3), At.AddMinutes(1), 0.1000000000001m), None);

        var view = await transcripts.GetAsync("acme", run, None);

        Assert.That(view.Found, Is.True);
        Assert.That((view.TenantId, view.Goal, view.Status, view.Answer, view.TotalCost), Is.EqualTo(("acme", "$compute 6 * 7", RunStatus.Completed, "42", (decimal?)0.1000000000001m)));
        Assert.That(view.Usage, Is.EqualTo(new TokenUsage(30, 3)));
        Assert.That(view.Steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(view.Steps[0].Outcomes.Select(o => o.Output), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(view.Steps[0].Verdict, Is.EqualTo(Verdict.Continue));
        Assert.That(view.Steps[0].ToolCalls.Single().Arguments.GetProperty("expression").GetString(), Is.EqualTo("6 * 7"));
        Assert.That(view.Steps[1].Cost, Is.EqualTo(0.0000123456789m));
        Assert.That(view.Steps[1].Usage, Is.EqualTo(new TokenUsage(20, 2)));
    }

    [Test]
    public async Task Should_keep_one_record_when_each_event_is_delivered_twice()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a"), None);
        await transcripts.RecordToolResultAsync(Result(run, "acme", 1, "a, again"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "a different goal", null, At.AddSeconds(5)), None);

        var view = await transcripts.GetAsync(run, None);

        Assert.That(view.Goal, Is.EqualTo("goal"));
        Assert.That(view.Steps, Has.Count.EqualTo(1));
        Assert.That(view.Steps[0].Outcomes.Select(o => o.Output), Is.EqualTo(new[] { "a" }), "the first delivery of a call's outcome is the one kept");
        Assert.That(view.Steps[0].Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(view.Steps[0].Thought, Is.EqualTo("first"));
    }

    [Test]
    public async Task Should_record_a_persons_guidance_once_and_show_the_escalated_run_running_again()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Escalate, "loop", 1), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Escalated, null, "loop", 1, new TokenUsage(10, 1), At), None);

        await transcripts.RecordGuidanceAsync(run, "acme", 1, new Guidance("Use the cached total.", "alice"), None);
        await transcripts.RecordGuidanceAsync(run, "acme", 1, new Guidance("redelivered, or someone later", "bob"), None);

        var view = await transcripts.GetAsync("acme", run, None);
        Assert.That((view.Status, view.Reason, view.Usage), Is.EqualTo((RunStatus.Running, (string?)null, (TokenUsage?)null)), "resumed: no longer ended");
        Assert.That(view.Steps.Single().Guidance, Is.EqualTo(new Guidance("Use the cached total.", "alice")));
        Assert.That(view.Steps.Single().Thought, Is.EqualTo("first"), "the step's record is kept");

        // Guidance arriving for a step not recorded yet, and for a run that has ended since: the step
        // gets it, and the ended run stays ended.
        await transcripts.RecordGuidanceAsync(run, "acme", 2, new Guidance("second", "alice"), None);
        await transcripts.RecordStepAsync(Step(run, "acme", 2, "planned after"), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Completed, "42", null, 3, new TokenUsage(30, 3), At), None);
        await transcripts.RecordGuidanceAsync(run, "acme", 2, new Guidance("late duplicate", "alice"), None);
        view = await transcripts.GetAsync(run, None);
        Assert.That(view.Status, Is.EqualTo(RunStatus.Completed));
        Assert.That((view.Steps[1].Thought, view.Steps[1].Guidance?.Text), Is.EqualTo(("planned after", "second")));
    }

    [Test]
    public async Task Should_keep_the_end_of_a_run_whose_start_arrives_after_it()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.RecordVerdictAsync(new GoalEvaluated(run, "acme", 1, Verdict.Complete, "done", 1), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Failed, null, "limit", 1, new TokenUsage(1, 1), At), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);

        var view = await transcripts.GetAsync(run, None);

        Assert.That((view.Status, view.Reason, view.Goal), Is.EqualTo((RunStatus.Failed, "limit", "goal")));
        Assert.That(view.Steps.Single().Usage, Is.Null, "a step known only from its verdict was never planned here");
    }

    [Test]
    public async Task Should_not_show_a_run_to_another_tenant()
    {
        var run = Guid.NewGuid();
        await Store.Transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At), None);
        await Store.Transcripts.RecordStepAsync(Step(run, "acme", 1, "first"), None);

        Assert.That((await Store.Transcripts.GetAsync("globex", run, None)).Found, Is.False);
        Assert.That((await Store.Transcripts.GetAsync("acme", run, None)).Steps, Has.Count.EqualTo(1));
        Assert.That((await Store.Transcripts.GetAsync(run, None)).TenantId, Is.EqualTo("acme"), "a read by run id alone still finds the run");
        Assert.That((await Store.Transcripts.GetAsync(Guid.NewGuid(), None)).Found, Is.False);
    }

    [Test]
    public async Task Should_keep_the_user_a_run_first_named_and_show_it_on_the_run()
    {
        var run = Guid.NewGuid();
        var anonymous = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At, UserId: "ada"), None);
        // A later start without the user (or naming another) leaves the first one, as for the goal.
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At.AddSeconds(1)), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At.AddSeconds(2), UserId: "mallory"), None);
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Completed, "42", null, 1, new TokenUsage(1, 1), At.AddMinutes(1)), None);
        await transcripts.StartRunAsync(new RunStart(anonymous, "acme", "assistant", "goal", null, At), None);

        Assert.That((await transcripts.GetAsync("acme", run, None)).UserId, Is.EqualTo("ada"));
        Assert.That((await transcripts.GetAsync(run, None)).UserId, Is.EqualTo("ada"));
        Assert.That((await transcripts.GetAsync("acme", anonymous, None)).UserId, Is.Null);
    }

    [Test]
    public async Task Should_record_the_user_of_a_run_whose_end_arrived_first()
    {
        var run = Guid.NewGuid();
        var transcripts = Store.Transcripts;
        await transcripts.EndRunAsync(new RunEnd(run, "acme", "assistant", RunStatus.Completed, "42", null, 1, new TokenUsage(1, 1), At.AddMinutes(1)), None);
        await transcripts.StartRunAsync(new RunStart(run, "acme", "assistant", "goal", null, At, UserId: "ada"), None);

        var view = await transcripts.GetAsync("acme", run, None);

        Assert.That((view.UserId, view.Status), Is.EqualTo(("ada", RunStatus.Completed)));
    }
}
