using System.Diagnostics;
using System.Diagnostics.Metrics;
using Agentry.Contracts;

namespace Agentry.ServiceDefaults.Telemetry;

/// Agentry's own spans and instruments, all in one place: every service records through these,
/// and ServiceDefaults listens to them (AddAgentryTelemetry). Names follow the OpenTelemetry
/// semantic conventions where one exists (gen_ai.*), and `agentry.*` otherwise.
public static class AgentryTelemetry
{
    public const string Name = "Agentry";

    /// MassTransit's ActivitySource and Meter: publish, receive, consume and saga spans.
    public const string MassTransit = "MassTransit";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>(
        "agentry.runs.started", "{run}", "Runs the saga started.");

    public static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>(
        "agentry.runs.finished", "{run}", "Runs that reached a final state, by outcome (Completed, Failed, Escalated, Cancelled).");

    public static readonly Histogram<double> RunDuration = Seconds(
        "agentry.run.duration", "Wall-clock time from the goal to the end of a run, by outcome.");

    public static readonly Histogram<double> StageDuration = Seconds(
        "agentry.step.duration", "Time spent in one stage of a step (context, plan, act, evaluate), by stage.");

    public static readonly Counter<long> Tokens = Meter.CreateCounter<long>(
        "agentry.llm.tokens", "{token}", "Tokens the model calls used, by gen_ai.token.type (input, output) and model.");

    public static readonly Counter<double> Cost = Meter.CreateCounter<double>(
        "agentry.llm.cost", "USD", "What the model calls cost, where the model's price is known.");

    public static readonly Histogram<double> ModelCallDuration = Seconds(
        "gen_ai.client.operation.duration", "Duration of a model call, by operation and model.");

    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>(
        "agentry.llm.cache.hits", "{request}", "Model requests answered from the response cache.");

    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>(
        "agentry.llm.cache.misses", "{request}", "Cacheable model requests that the cache could not answer.");

    public static readonly Counter<long> ToolCalls = Meter.CreateCounter<long>(
        "agentry.tool.calls", "{call}", "Tool calls run, by tool and outcome (ok or the error kind).");

    public static readonly Counter<long> ToolErrors = Meter.CreateCounter<long>(
        "agentry.tool.errors", "{call}", "Tool calls that ended in an error, by tool and error kind.");

    public static readonly Histogram<double> ToolDuration = Seconds(
        "agentry.tool.duration", "Duration of a tool call, by tool.");

    public static readonly Counter<long> ScheduleFires = Meter.CreateCounter<long>(
        "agentry.schedule.fires", "{run}", "Runs a schedule started, by agent, trigger and reason (on_time, or catch_up for the run-once misfire policy).");

    public static readonly Counter<long> ScheduleMissed = Meter.CreateCounter<long>(
        "agentry.schedule.missed", "{due}", "A schedule's due times that started no run, by agent, trigger and reason (downtime, paused, refused).");

    public static readonly Histogram<double> OnlineScore = Meter.CreateHistogram(
        "agentry.eval.online.score", "1", "Scores (0 to 1) of sampled production runs, by agent and grader (grader \"run\": the run's mean).",
        tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] });

    public static readonly Counter<long> OnlineNotGraded = Meter.CreateCounter<long>(
        "agentry.eval.online.not_graded", "{grade}", "Grades of sampled runs that could not be given (a grader failed, the judge could not be asked), by agent and grader.");

    public static readonly Counter<long> OnlineDrops = Meter.CreateCounter<long>(
        "agentry.eval.online.drops", "{alert}", "Windows of an agent's online scores that dropped below the window before by the alert's drop, by agent.");

    /// A histogram of seconds. Its buckets are given here: the SDK's default boundaries (0 to 10 000)
    /// suit milliseconds and would put every step and model call in the first bucket.
    private static Histogram<double> Seconds(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
        });

    /// Starts one of Agentry's own spans for a stage of a run, tagged so a run's spans can be found
    /// and ordered (the CLI's timing table reads agentry.run_id, agentry.step and agentry.stage).
    /// Null when nothing listens, as with any ActivitySource.
    public static Activity? StartStage(string name, string stage, Guid runId, int step, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = Source.StartActivity(name, kind);
        activity?.SetTag(Tags.RunId, runId.ToString())
            .SetTag(Tags.Step, step)
            .SetTag(Tags.Stage, stage);
        return activity;
    }

    /// Records agentry.step.duration for a stage begun at `started` (a Stopwatch timestamp): the
    /// metric is kept whether or not anyone listens to the stage's span.
    public static void RecordStage(string stage, long started) =>
        StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(Tags.Stage, stage));

    /// Marks a span as failed the way the conventions say: status Error and error.type.
    public static void Fail(this Activity? activity, string errorType, string? description = null)
    {
        activity?.SetStatus(ActivityStatusCode.Error, description)
            .SetTag(Tags.ErrorType, errorType);
    }

    /// The stages of a step, as agentry.stage values and rows of the CLI's timing table.
    public static class Stages
    {
        public const string Context = "context";
        public const string Plan = "plan";
        public const string Act = "act";
        public const string Evaluate = "evaluate";
        public const string Saga = "saga";
    }

    /// Values of agentry.schedule.reason.
    public static class ScheduleReasons
    {
        public const string OnTime = "on_time";
        public const string CatchUp = "catch_up";
        public const string Downtime = "downtime";
        public const string Paused = "paused";
        public const string Refused = "refused";
    }

    /// Attribute names. The gen_ai.* ones are the OpenTelemetry GenAI semantic conventions.
    public static class Tags
    {
        public const string RunId = "agentry.run_id";
        public const string Step = "agentry.step";
        public const string Stage = "agentry.stage";
        public const string Agent = "agentry.agent";
        public const string Outcome = "agentry.outcome";
        public const string SagaEvent = "agentry.saga.event";
        public const string SagaStateFrom = "agentry.saga.state.from";
        public const string SagaStateTo = "agentry.saga.state.to";
        public const string ContextMessages = "agentry.context.messages";
        public const string ContextTokens = "agentry.context.tokens";
        public const string ContextBudget = "agentry.context.budget";
        /// How many of the run's steps Memory read to build the context: the steps after its stored summary.
        public const string ContextStepsRead = "agentry.context.steps_read";
        public const string ContextSummarizedSteps = "agentry.context.summarized_steps";
        public const string ContextMemories = "agentry.context.memories";
        public const string ContextPassages = "agentry.context.passages";
        public const string Verdict = "agentry.verdict";
        public const string ToolOutcome = "agentry.tool.outcome";
        public const string ToolReplayed = "agentry.tool.replayed";
        public const string ErrorType = "error.type";
        public const string TriggerKind = "agentry.trigger.kind";
        public const string ParentRunId = "agentry.parent_run_id";
        public const string LineageKind = "agentry.lineage.kind";
        public const string LineageFromStep = "agentry.lineage.from_step";
        public const string TriggerName = "agentry.trigger.name";
        public const string TriggerSource = "agentry.trigger.source";
        public const string TriggerDeliveryId = "agentry.trigger.delivery_id";
        public const string TriggerDueAt = "agentry.trigger.due_at";
        public const string ScheduleReason = "agentry.schedule.reason";
        public const string Grader = "agentry.eval.grader";

        public const string GenAiOperation = "gen_ai.operation.name";
        public const string GenAiProvider = "gen_ai.provider.name";

        /// The older name of gen_ai.provider.name, still read by many back ends.
        public const string GenAiSystem = "gen_ai.system";
        public const string GenAiRequestModel = "gen_ai.request.model";
        public const string GenAiResponseModel = "gen_ai.response.model";
        public const string GenAiInputTokens = "gen_ai.usage.input_tokens";
        public const string GenAiOutputTokens = "gen_ai.usage.output_tokens";
        public const string GenAiTokenType = "gen_ai.token.type";
        public const string GenAiToolName = "gen_ai.tool.name";
        public const string GenAiToolCallId = "gen_ai.tool.call.id";
    }

    /// What started a run, on the span of the trigger that fired and on the saga's first span.
    public static Activity? TagTrigger(this Activity? span, TriggerKind kind, TriggerOrigin? origin) =>
        span?.SetTag(Tags.TriggerKind, kind.ToString())
            .SetTag(Tags.TriggerName, origin?.Name)
            .SetTag(Tags.TriggerSource, origin?.Source)
            .SetTag(Tags.TriggerDeliveryId, origin?.DeliveryId)
            .SetTag(Tags.TriggerDueAt, origin?.DueAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
}
