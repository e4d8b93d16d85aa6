using System.Text.Json;
using Agentry.Contracts;
using Agentry.Memory;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// A run's start reaches Memory twice, on two queues and in either order: GoalReceived and the
/// first ContextRequested. It is recorded once, before the first context is answered, whichever
/// comes first and however often each is delivered (RunStarts).
public sealed class When_a_run_starts : HarnessFixture
{
    private const string Tenant = "tenant-a";
    private static readonly JsonElement Input = JsonDocument.Parse("""{"city":"Lyon"}""").RootElement.Clone();
    private TempFolder _folder = null!;
    private CountingTranscriptStore _counted = null!;

    protected override void ConfigureServices(IServiceCollection services)
    {
        _folder = new TempFolder();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString })
            .Build();
        // Registered first, so that AddMemory keeps it: the real SQLite store, with its starts counted.
        services.AddSingleton<ITranscriptStore>(provider => _counted = new CountingTranscriptStore(new SqliteTranscriptStore(provider.GetRequiredService<SqliteMemoryDatabase>())));
        services.AddMemory(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddMemoryConsumers();

    // As in When_memory_assembles_context: the tokenizer loads here, not during the first context.
    [OneTimeSetUp]
    public void LoadTokenizer() => _ = new ContextTokens();

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(1);

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private static GoalReceived Goal(Guid runId) => new(runId, Tenant, "assistant", "Plan my trip", Input, UserId: "ada");

    private static ContextRequested FirstContext(Guid runId) => new(runId, Tenant, "assistant", 1, "Plan my trip", Input, UserId: "ada");

    /// Publishes the message and waits until Memory's consumer of it has finished with it.
    private async Task DeliverAsync<TConsumer, TMessage>(TMessage message)
        where TConsumer : class, IConsumer
        where TMessage : class
    {
        var delivery = NewId.NextGuid();
        await Harness.Bus.Publish(message, context => context.MessageId = delivery);
        await Eventually.Find(Harness.GetConsumerHarness<TConsumer>().Consumed, m => m.Context.MessageId == delivery, $"{typeof(TConsumer).Name} consuming {typeof(TMessage).Name}");
    }

    private Task DeliverGoalAsync(Guid runId) => DeliverAsync<TranscriptConsumer, GoalReceived>(Goal(runId));

    private Task DeliverFirstContextAsync(Guid runId) => DeliverAsync<ContextRequestedConsumer, ContextRequested>(FirstContext(runId));

    private async Task AssertRecordedAsync(Guid runId, RunStatus status = RunStatus.Running)
    {
        var run = (await Harness.GetRequestClient<GetRun>().GetResponse<RunView>(new GetRun(runId))).Message;
        Assert.That((run.Found, run.TenantId, run.Agent, run.Goal, run.UserId, run.Status), Is.EqualTo((true, Tenant, "assistant", "Plan my trip", "ada", status)));
    }

    [Test]
    public async Task Should_record_it_once_when_the_goal_comes_before_the_first_context()
    {
        var runId = NewId.NextGuid();

        await DeliverGoalAsync(runId);
        await DeliverFirstContextAsync(runId);

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId), "the first context was not answered");
        await AssertRecordedAsync(runId);
        Assert.That(_counted.Starts(runId), Is.EqualTo(1), "the first context wrote the start again");
    }

    [Test]
    public async Task Should_record_it_before_answering_the_first_context_that_comes_before_the_goal()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(FirstContext(runId));

        Assert.That(await Harness.Published.Any<ContextLoaded>(m => m.Context.Message.RunId == runId), "the first context was not answered");
        Assert.That(_counted.Starts(runId), Is.EqualTo(1), "the first context was answered before the run's start was recorded");
        await AssertRecordedAsync(runId);

        await DeliverGoalAsync(runId);

        await AssertRecordedAsync(runId);
        Assert.That(_counted.Starts(runId), Is.EqualTo(1), "the late GoalReceived wrote the start again");
    }

    [Test]
    public async Task Should_record_it_once_however_often_each_message_is_delivered()
    {
        var runId = NewId.NextGuid();

        await DeliverFirstContextAsync(runId);
        await DeliverGoalAsync(runId);
        await DeliverFirstContextAsync(runId);
        await DeliverGoalAsync(runId);

        await AssertRecordedAsync(runId);
        Assert.That(_counted.Starts(runId), Is.EqualTo(1));
    }

    [Test]
    public async Task Should_still_record_the_start_of_a_run_whose_end_came_first()
    {
        var runId = NewId.NextGuid();
        await DeliverAsync<TranscriptConsumer, RunCancelled>(new RunCancelled(runId, Tenant, "assistant", "stopped by alice", 0, TokenUsage.None, TimeSpan.Zero));

        await DeliverGoalAsync(runId);

        await AssertRecordedAsync(runId, status: RunStatus.Cancelled);
        Assert.That(_counted.Starts(runId), Is.EqualTo(1));
    }

    /// Counts the writes of a run's start and passes everything to the real store.
    private sealed class CountingTranscriptStore(ITranscriptStore inner) : ITranscriptStore
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, int> _starts = new();

        public int Starts(Guid runId) => _starts.GetValueOrDefault(runId);

        public Task StartRunAsync(RunStart start, CancellationToken cancellationToken)
        {
            _starts.AddOrUpdate(start.RunId, 1, (_, count) => count + 1);
            return inner.StartRunAsync(start, cancellationToken);
        }

        public Task RecordStepAsync(StepPlanned step, CancellationToken cancellationToken) => inner.RecordStepAsync(step, cancellationToken);

        public Task RecordToolResultAsync(ToolResult result, CancellationToken cancellationToken) => inner.RecordToolResultAsync(result, cancellationToken);

        public Task RecordVerdictAsync(GoalEvaluated verdict, CancellationToken cancellationToken) => inner.RecordVerdictAsync(verdict, cancellationToken);

        public Task EndRunAsync(RunEnd end, CancellationToken cancellationToken) => inner.EndRunAsync(end, cancellationToken);

        public Task RecordExtractionAsync(Guid runId, TokenUsage usage, decimal cost, CancellationToken cancellationToken) =>
            inner.RecordExtractionAsync(runId, usage, cost, cancellationToken);

        public Task RecordGuidanceAsync(Guid runId, string tenantId, int afterStep, Guidance guidance, CancellationToken cancellationToken) =>
            inner.RecordGuidanceAsync(runId, tenantId, afterStep, guidance, cancellationToken);

        public Task RecordEscalationSummaryAsync(EscalationSummarized summary, CancellationToken cancellationToken) =>
            inner.RecordEscalationSummaryAsync(summary, cancellationToken);

        public Task RecordOnlineEvaluationAsync(RunGraded graded, CancellationToken cancellationToken) =>
            inner.RecordOnlineEvaluationAsync(graded, cancellationToken);

        public Task<RunView> GetAsync(Guid runId, CancellationToken cancellationToken) => inner.GetAsync(runId, cancellationToken);

        public Task<RunView> GetAsync(string tenantId, Guid runId, CancellationToken cancellationToken) => inner.GetAsync(tenantId, runId, cancellationToken);

        public Task<RunView> GetRecentAsync(Guid runId, int afterStep, CancellationToken cancellationToken) => inner.GetRecentAsync(runId, afterStep, cancellationToken);

        public Task<IReadOnlyList<RunSummary>> ListAsync(ListRuns query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

        public Task<IReadOnlyList<AgentDayTotals>> TotalsAsync(GetRunTotals query, CancellationToken cancellationToken) => inner.TotalsAsync(query, cancellationToken);
    }

    [Test]
    public async Task Should_record_a_goal_without_a_tenant_under_the_default_tenant_as_the_saga_does()
    {
        var runId = NewId.NextGuid();

        await DeliverAsync<TranscriptConsumer, GoalReceived>(Goal(runId) with { TenantId = null! });

        var run = (await Harness.GetRequestClient<GetRun>().GetResponse<RunView>(new GetRun(runId))).Message;
        Assert.That((run.Found, run.TenantId, run.Goal), Is.EqualTo((true, "default", "Plan my trip")));
    }

    [Test]
    public async Task Should_not_record_a_goal_the_saga_refuses_for_its_size()
    {
        var runId = NewId.NextGuid();

        await DeliverAsync<TranscriptConsumer, GoalReceived>(Goal(runId) with { Goal = new string('x', 40_000) });

        Assert.That(_counted.Starts(runId), Is.Zero);
    }
}
