using System.Collections.Concurrent;
using System.Diagnostics;
using Agentry.ServiceDefaults.Telemetry;

namespace Agentry.Tests.Telemetry;

/// Records the spans of Agentry's and MassTransit's sources (and a root of the test's own) while
/// it lives, without an OpenTelemetry pipeline: enough to check which trace a span joined.
public sealed class RecordedSpans : IDisposable
{
    private const string TestSourceName = "Agentry.Tests.RecordedSpans";

    // Matched by name: a source asks the listeners while it is being constructed, before this field is set.
    private static readonly ActivitySource TestSource = new(TestSourceName);

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public RecordedSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is AgentryTelemetry.Name or AgentryTelemetry.MassTransit or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// A root span of a new trace, standing for whatever started the run.
    public Activity StartRoot(string name) =>
        TestSource.StartActivity(name, ActivityKind.Internal, parentContext: default) ?? throw new InvalidOperationException("The test source is not listened to.");

    /// The first stopped span that matches, waiting a little: spans stop after the work they time.
    public async Task<Activity> WaitFor(Func<Activity, bool> match, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < until)
        {
            if (_stopped.FirstOrDefault(match) is { } span)
            {
                return span;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"No span {what} was recorded; recorded: {string.Join(", ", _stopped.Select(s => s.DisplayName).Distinct())}");
        throw new InvalidOperationException("unreachable");
    }

    public static bool IsOfRun(Activity span, Guid runId) =>
        span.GetTagItem(AgentryTelemetry.Tags.RunId) as string == runId.ToString();

    public void Dispose() => _listener.Dispose();
}
