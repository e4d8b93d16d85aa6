using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Agentry.Contracts;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Planner.Deadlines;

public sealed class PlannerOptions
{
    public const string Section = "Planner";

    /// How often due run deadlines are looked for.
    public TimeSpan DeadlinePollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// How many times a reply with invalid tool arguments is sent back to the model, with the
    /// validation error, before the step fails (Planner:MaxReasks).
    [Range(0, 10)]
    public int MaxReasks { get; set; } = 2;
}

/// Polls the deadline store and tells the saga of every run whose wall-clock deadline, or approval
/// timeout, passed. Each
/// RunDeadlineReached is published inside a span whose parent is the trace context stored with the
/// deadline, so the saga's transition on it joins the run's trace.
/// A poll that fails (Redis away, a timeout) is logged and the next tick tries again.
public sealed class DeadlineMonitor(
    IRunDeadlines deadlines,
    IBus bus,
    TimeProvider clock,
    IOptions<PlannerOptions> options,
    ILogger<DeadlineMonitor> logger) : PeriodicBackgroundService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.DeadlinePollInterval;

    protected override Task RunRoundAsync(CancellationToken stoppingToken) => PublishDueAsync(stoppingToken);

    public async Task PublishDueAsync(CancellationToken cancellationToken)
    {
        foreach (var due in await deadlines.TakeDueAsync(Clock.GetUtcNow(), max: 100, cancellationToken))
        {
            try
            {
                using var activity = StartActivity(due);
                if (due.Kind == DeadlineKind.Approval)
                {
                    await bus.Publish(new ApprovalDeadlineReached(due.RunId, due.TenantId, due.Deadline), cancellationToken);
                }
                else
                {
                    await bus.Publish(new RunDeadlineReached(due.RunId, due.TenantId, due.Deadline), cancellationToken);
                }
            }
            catch
            {
                // Handed out but not delivered: put it back for the next tick.
                await deadlines.SetAsync(due, CancellationToken.None);
                throw;
            }
        }
    }

    /// The W3C traceparent of the current span, to store with a deadline; null outside a trace.
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    // MassTransit's publish span, and so the saga's consume, continue Activity.Current: this span
    // puts the run's context there. Without a stored (or readable) context it is a root of its own.
    private static Activity? StartActivity(RunDeadline due)
    {
        var parent = due.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, out var context)
            ? context
            : default;
        return AgentryTelemetry.Source.StartActivity("deadline reached", ActivityKind.Internal, parent)
            ?.SetTag(AgentryTelemetry.Tags.RunId, due.RunId.ToString());
    }
}
