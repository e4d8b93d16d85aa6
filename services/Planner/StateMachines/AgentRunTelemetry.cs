using System.Diagnostics;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Planner.StateMachines;

/// A span for every event the saga handles (with the state before and after), and the run counters.
/// A transition that is retried after a concurrency conflict is seen, and counted, again: rare, and
/// the spans show it.
public sealed class AgentRunTelemetry(TimeProvider clock) : IEventObserver<AgentRunState>
{
    public Task PreExecute(BehaviorContext<AgentRunState> context) => Start(context);

    public Task PreExecute<T>(BehaviorContext<AgentRunState, T> context)
        where T : class => Start(context);

    public Task PostExecute(BehaviorContext<AgentRunState> context) => End(context, null);

    public Task PostExecute<T>(BehaviorContext<AgentRunState, T> context)
        where T : class => End(context, null);

    public Task ExecuteFault(BehaviorContext<AgentRunState> context, Exception exception) => End(context, exception);

    public Task ExecuteFault<T>(BehaviorContext<AgentRunState, T> context, Exception exception)
        where T : class => End(context, exception);

    private static Task Start(BehaviorContext<AgentRunState> context)
    {
        var span = context.GetOrAddPayload(() => new TransitionSpan());
        span.From = State(context.Saga);
        // A leaf span: Activity.Current is left as MassTransit set it, so what the transition
        // publishes stays a child of the consume span whichever way the observer is awaited.
        var current = Activity.Current;
        // A run's first event comes before the saga has a step: it belongs to step 1.
        span.Activity = StartStage($"saga {context.Event.Name}", Stages.Saga, context.Saga.CorrelationId, Math.Max(1, context.Saga.Step));
        Activity.Current = current;
        span.Activity?.SetTag(Tags.SagaEvent, context.Event.Name).SetTag(Tags.SagaStateFrom, span.From);
        return Task.CompletedTask;
    }

    private Task End(BehaviorContext<AgentRunState> context, Exception? exception)
    {
        if (!context.TryGetPayload<TransitionSpan>(out var span) || span.From is not { } from)
        {
            return Task.CompletedTask;
        }

        var to = State(context.Saga);
        if (exception is null)
        {
            Count(context.Saga, from, to);
        }
        else
        {
            span.Activity.Fail(exception.GetType().FullName ?? exception.GetType().Name, exception.Message);
        }

        if (span.Activity is { } activity)
        {
            activity.SetTag(Tags.SagaStateTo, to);
            if (from == "Initial")
            {
                activity.TagTrigger(context.Saga.Trigger, context.Saga.Origin);
            }

            var current = Activity.Current;
            activity.Dispose();
            Activity.Current = current == activity ? activity.Parent : current;
        }

        span.Activity = null;
        span.From = null;
        return Task.CompletedTask;
    }

    private void Count(AgentRunState run, string from, string to)
    {
        if (from == "Initial" && to != "Initial")
        {
            RunsStarted.Add(1);
        }

        // An escalated run that a person closes, or resumes and that then ends, is counted again with
        // that outcome: each escalation is one stop, and so is the run's end (decision 0021).
        var finished = AgentRunStateMachine.FinishedStates;
        if (finished.Contains(to) && (!finished.Contains(from) || from == nameof(AgentRunStateMachine.Escalated)) && from != to)
        {
            var outcome = new KeyValuePair<string, object?>(Tags.Outcome, to);
            RunsFinished.Add(1, outcome);
            RunDuration.Record((clock.GetUtcNow() - run.StartedAt).TotalSeconds, outcome);
        }
    }

    // A new instance has no state yet; MassTransit calls that Initial.
    private static string State(AgentRunState run) => string.IsNullOrEmpty(run.CurrentState) ? "Initial" : run.CurrentState;

    private sealed class TransitionSpan
    {
        public Activity? Activity { get; set; }
        public string? From { get; set; }
    }
}
